from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="log p_X(x) = log N(f(x); 0, 1) + log |f'(x)| with f'(x) = 1 / (sigma x): both the sigma and the x count.")
def test_two_points(log_normal_log_prob):
    import math
    import torch
    from gencourse.exercises import checks
    x = torch.tensor([1.0, math.e], dtype=torch.float64)
    checks.close('log_normal_log_prob([1, e], mu=0, sigma=1)', log_normal_log_prob(x, 0.0, 1.0), torch.tensor([-0.5 * math.log(2 * math.pi), -0.5 - 0.5 * math.log(2 * math.pi) - 1.0]), hint="at x = e, f(x) = 1 and log |f'(x)| = -log e = -1.")
    checks.close('log_normal_log_prob(e, mu=1, sigma=2)', log_normal_log_prob(x[1:], 1.0, 2.0), torch.tensor([-0.5 * math.log(2 * math.pi) - math.log(2.0) - 1.0]), hint='f(e) = 0 here; the Jacobian term is -log sigma - log x.')


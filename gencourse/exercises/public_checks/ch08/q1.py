from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="With beta = (0.2, 0.5), alpha_bar = (0.8, 0.4): x_1 = sqrt(0.8) x0 + sqrt(0.2) eps and x_2 = sqrt(0.4) x0 + sqrt(0.6) eps.")
def test_two_steps(q_sample):
    import math
    import torch
    from gencourse.exercises import checks
    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    x0 = torch.tensor([[1.0, -1.0], [2.0, 0.5]], dtype=torch.float64)
    eps = torch.tensor([[0.5, 0.0], [-1.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([1, 2])
    expected = torch.stack([math.sqrt(0.8) * x0[0] + math.sqrt(0.2) * eps[0], math.sqrt(0.4) * x0[1] + math.sqrt(0.6) * eps[1]])
    checks.close('q_sample of two points at t = 1 and t = 2', q_sample(x0, t, eps, beta), expected, hint='alpha_bar_t is the product of (1 - beta_s) for s = 1..t, and beta_t is beta[t - 1].')


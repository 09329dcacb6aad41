from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="At the true posterior N(x/2, 1/2) the ELBO is log p(x) = log N(x; 0, 2).")
def test_tight_at_the_posterior(conjugate_elbo):
    import math
    import torch
    from gencourse.exercises import checks
    x = torch.tensor([2.0, -0.5], dtype=torch.float64)
    log_evidence = -0.5 * math.log(2 * math.pi * 2) - x ** 2 / 4
    checks.close('conjugate_elbo(x, x/2, log(1/2))', conjugate_elbo(x, x / 2, torch.full_like(x, math.log(0.5))), log_evidence, hint='E_q[(x - z)^2] = (x - m)^2 + s^2, E_q[z^2] = m^2 + s^2, and the entropy of N(m, s^2) is 1/2 log(2 pi e s^2).')


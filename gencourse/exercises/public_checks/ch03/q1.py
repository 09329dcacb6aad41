from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="z = mu + sigma * eps, where sigma is the standard deviation exp(log_var / 2), not the variance.")
def test_values(reparameterize):
    import math
    import torch
    from gencourse.exercises import checks
    mu = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    log_var = torch.tensor([[math.log(4.0), 0.0]], dtype=torch.float64)
    eps = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    checks.close('reparameterize(mu, log_var, eps)', reparameterize(mu, log_var, eps), torch.tensor([[2.0, 1.0]]), hint='with log_var = log 4 the standard deviation is 2.')


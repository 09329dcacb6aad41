from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="With beta = (0.2, 0.5) at t = 2: alpha_2 = 0.5, 1 - alpha_bar_2 = 0.6, sigma_2 = sqrt(0.5).")
def test_one_step_by_hand(ancestral_step):
    import math
    import torch
    from gencourse.exercises import checks
    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    x_t = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    eps_theta = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    z = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    expected = (x_t - 0.5 / math.sqrt(0.6) * eps_theta) / math.sqrt(0.5) + math.sqrt(0.5) * z
    checks.close('ancestral_step at t = 2', ancestral_step(x_t, torch.tensor([2]), eps_theta, z, beta), expected, hint='the mean divides by sqrt(alpha_t); the noise is sigma_t z with sigma_t = sqrt(beta_t).')


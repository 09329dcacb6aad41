from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="When the encoder is the prior, T* = 0 everywhere; with mean 1 and variance 1 in one dimension, T* = z - 1/2.")
def test_simple_encoders(avb_optimal_t):
    import torch
    from gencourse.exercises import checks
    z = torch.tensor([[0.0, 1.0], [-2.0, 0.5], [3.0, -1.0]], dtype=torch.float64)
    zeros = torch.zeros_like(z)
    checks.close('avb_optimal_t when q(z|x) = N(0, I)', avb_optimal_t(z, zeros, zeros), torch.zeros(3), hint='log q - log p is zero when q = p; return one value per row, shape (B,).')
    z1 = torch.tensor([[0.0], [1.0], [2.5]], dtype=torch.float64)
    checks.close('avb_optimal_t with mu = 1, log_var = 0 in one dimension', avb_optimal_t(z1, torch.ones_like(z1), torch.zeros_like(z1)), z1[:, 0] - 0.5, hint='-(z - 1)^2 / 2 + z^2 / 2 = z - 1/2.')


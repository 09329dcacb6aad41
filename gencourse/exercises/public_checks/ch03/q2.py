from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="With zero logits every pixel costs log 2, and with mu = 0, log_var = 0 the KL is 0.")
def test_simple_batch(negative_elbo):
    import math
    import torch
    from gencourse.exercises import checks
    x = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    zeros = torch.zeros(2, 2, dtype=torch.float64)
    checks.close('negative_elbo with zero logits and q = N(0, I)', negative_elbo(x, torch.zeros_like(x), zeros, zeros), torch.tensor(3 * math.log(2)), hint='sum over pixels and latent dimensions, then average over the batch.')
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    checks.close('negative_elbo with mu = (1, 0) for the first image', negative_elbo(x, torch.zeros_like(x), mu, zeros), torch.tensor(3 * math.log(2) + 0.25), hint='the KL of the first image is 1/2; the batch mean halves it.')


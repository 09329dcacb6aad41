from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="With one image the aggregated posterior is that image's Gaussian.")
def test_one_image(aggregated_posterior_log_prob):
    import torch
    from gencourse.exercises import checks
    mu = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    log_var = torch.tensor([[0.0, 0.5]], dtype=torch.float64)
    z = torch.tensor([[0.0, 0.0], [1.0, -2.0], [2.0, -1.0]], dtype=torch.float64)
    expected = torch.distributions.Normal(mu, (0.5 * log_var).exp()).log_prob(z).sum(-1)
    checks.close('aggregated_posterior_log_prob with N = 1', aggregated_posterior_log_prob(z, mu, log_var), expected, hint='log N(z; mu, sigma^2) summed over the d coordinates, one value per code: shape (M,).')


from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="For one component with weight 1 the answer is the mean log-density of one Gaussian.")
def test_one_component(gmm_log_likelihood):
    import torch
    from gencourse.exercises import checks
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    means = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    covariances = torch.tensor([[[2.0, 0.5], [0.5, 1.0]]], dtype=torch.float64)
    expected = torch.distributions.MultivariateNormal(means[0], covariances[0]).log_prob(x).mean()
    got = gmm_log_likelihood(x, torch.ones(1, dtype=torch.float64), means, covariances)
    checks.close('gmm_log_likelihood with one Gaussian', got, expected, hint='log N(x; mu, Sigma) = -1/2 (x-mu)^T Sigma^-1 (x-mu) - 1/2 log det(2 pi Sigma).')


from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="KL(q || q) = 0, and KL(N(1, 1) || N(0, 1)) = 1/2.")
def test_known_values(gaussian_kl):
    import torch
    from gencourse.exercises import checks
    zero = torch.zeros(1, 2, dtype=torch.float64)
    mu = torch.tensor([[0.3, -1.0]], dtype=torch.float64)
    log_var = torch.tensor([[0.5, -2.0]], dtype=torch.float64)
    checks.close('gaussian_kl(q, q)', gaussian_kl(mu, log_var, mu, log_var), torch.zeros(1), hint='a distribution is at KL divergence 0 from itself.')
    checks.close('gaussian_kl(N((1, 0), I), N(0, I))', gaussian_kl(torch.tensor([[1.0, 0.0]], dtype=torch.float64), zero, zero, zero), torch.tensor([0.5]), hint='only the mean term (mu_q - mu_p)^2 / sigma_p^2 is non-zero here; sum over the last dimension.')


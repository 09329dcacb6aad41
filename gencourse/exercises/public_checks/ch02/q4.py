from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="At z = mu both derivatives are simple: 0 for mu and -1/2 for log_var.")
def test_at_the_mean(gaussian_score):
    import torch
    from gencourse.exercises import checks
    mu = torch.tensor([1.0, -2.0], dtype=torch.float64)
    log_var = torch.tensor([0.0, 1.0], dtype=torch.float64)
    answer = gaussian_score(mu.clone(), mu, log_var)
    checks.answered('gaussian_score(mu, mu, log_var)', answer)
    d_mu, d_log_var = answer
    checks.close('d_mu at z = mu', d_mu, torch.zeros(2), hint='(z - mu) / sigma^2 vanishes at z = mu.')
    checks.close('d_log_var at z = mu', d_log_var, torch.full((2,), -0.5), hint='differentiate -1/2 log sigma^2 - (z - mu)^2 / (2 sigma^2) with respect to log sigma^2.')


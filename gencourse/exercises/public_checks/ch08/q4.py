from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="With sigma_t^2 = beta_t, lambda_t = beta_t / (2 alpha_t (1 - alpha_bar_t)): for beta = (0.2, 0.5), (0.625, 5/6).")
def test_two_steps(elbo_weights):
    import torch
    from gencourse.exercises import checks
    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    checks.close('elbo_weights(beta=(0.2, 0.5), "beta")', elbo_weights(beta, 'beta'), torch.tensor([0.625, 5 / 6]), hint='alpha_bar = (0.8, 0.4); one weight per step, a tensor of shape (T,).')


from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="With beta = (0.2, 0.5) and t = 2: alpha_bar_1 = 0.8, alpha_bar_2 = 0.4, so beta_tilde_2 = 0.2 / 0.6 * 0.5 = 1/6.")
def test_second_of_two_steps(q_posterior):
    import math
    import torch
    from gencourse.exercises import checks
    beta = torch.tensor([0.2, 0.5], dtype=torch.float64)
    x0 = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    x_t = torch.tensor([[0.5, 2.0]], dtype=torch.float64)
    answer = q_posterior(x0, x_t, torch.tensor([2]), beta)
    checks.answered('q_posterior(x0, x_t, t=2, beta)', answer)
    mean, variance = answer
    coef_x0, coef_xt = (math.sqrt(0.8) * 0.5 / 0.6, math.sqrt(0.5) * 0.2 / 0.6)
    checks.close('the mean of q(x_1 | x_2, x0)', mean, coef_x0 * x0 + coef_xt * x_t, hint='the coefficient of x0 uses alpha_bar_{t-1} = alpha_bar_1, that of x_t uses alpha_t = alpha_2.')
    checks.close('the variance of q(x_1 | x_2, x0)', variance, torch.tensor([1 / 6]), hint='one variance per example: a tensor of shape (B,).')


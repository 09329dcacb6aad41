from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="A linear critic f(x) = w . x has gradient w everywhere: the penalty is (|w| - 1)^2.")
def test_linear_critic(gradient_penalty):
    import torch
    from gencourse.exercises import checks
    w = torch.tensor([1.2, -1.6], dtype=torch.float64)

    def critic(x):
        return x @ w
    x_hat = torch.randn(5, 2, dtype=torch.float64)
    checks.close('gradient_penalty of f(x) = w . x with |w| = 2', gradient_penalty(critic, x_hat), torch.tensor(1.0), hint='the gradient with respect to the input x_hat, not to any parameter.')


from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="sigma2 is the mean of the D - d smallest eigenvalues of S, with S divided by N.")
def test_sigma2_axis_aligned(ppca_fit):
    import torch
    from gencourse.exercises import checks
    s = (3 * torch.tensor([4.0, 1.0, 0.25], dtype=torch.float64)).sqrt()
    x = torch.cat([torch.diag(s), -torch.diag(s)]) + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    lam = torch.tensor([0.25, 1.0, 4.0], dtype=torch.float64)
    answer = ppca_fit(x, 1)
    checks.answered('ppca_fit(x, 1)', answer)
    W, sigma2 = answer
    checks.close('sigma2 of ppca_fit(x, d=1)', sigma2, lam[:2].mean(), hint='discard the d largest eigenvalues and average the others.')


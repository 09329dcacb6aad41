from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="For Sigma = [[1, .9], [.9, 1]] the reverse fit has variances 1 - 0.9^2 = 0.19, the forward fit 1.")
def test_correlated_pair(mean_field_variances):
    import torch
    from gencourse.exercises import checks
    Sigma = torch.tensor([[1.0, 0.9], [0.9, 1.0]], dtype=torch.float64)
    checks.close('mean_field_variances(Sigma, "reverse")', mean_field_variances(Sigma, 'reverse'), torch.tensor([0.19, 0.19]), hint='invert Sigma first, then take 1 / its diagonal.')
    checks.close('mean_field_variances(Sigma, "forward")', mean_field_variances(Sigma, 'forward'), torch.tensor([1.0, 1.0]), hint='the forward fit matches the marginals of p.')


from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="alpha = 1 gives the real example, alpha = 0 the fake one.")
def test_vectors(interpolates):
    import torch
    from gencourse.exercises import checks
    x_real = torch.tensor([[1.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
    x_fake = torch.tensor([[-1.0, 3.0], [0.0, 0.0]], dtype=torch.float64)
    alpha = torch.tensor([1.0, 0.25], dtype=torch.float64)
    checks.close('interpolates of two 2-D batches', interpolates(x_real, x_fake, alpha), torch.tensor([[1.0, 1.0], [0.5, 0.5]]), hint='alpha weights the real example.')


from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="Where the two densities agree, D* = 1/2; where only the data has mass, D* = 1.")
def test_simple_points(optimal_discriminator):
    import torch
    from gencourse.exercises import checks
    p_data = torch.tensor([0.2, 0.3, 0.0], dtype=torch.float64)
    p_model = torch.tensor([0.2, 0.0, 0.4], dtype=torch.float64)
    checks.close('optimal_discriminator at three points', optimal_discriminator(p_data, p_model), torch.tensor([0.5, 1.0, 0.0]), hint='the probability that x came from the data rather than the model.')


from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="Shifting every point by c costs exactly |c|; the order of the points does not matter.")
def test_shift(wasserstein_1d):
    import torch
    from gencourse.exercises import checks
    x = torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=torch.float64)
    y = torch.tensor([2.5, 5.0, 1.0, 4.0], dtype=torch.float64)
    checks.close('wasserstein_1d(x, shuffled x + 2)', wasserstein_1d(x, y), torch.tensor(2.0), hint='sort both samples before pairing them.')


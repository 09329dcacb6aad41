from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="-log p(x | l) is -log sigmoid(l) for x = 1 and -log(1 - sigmoid(l)) for x = 0, summed over pixels.")
def test_moderate_logits(bernoulli_nll):
    import torch
    from gencourse.exercises import checks
    logits = torch.tensor([[0.0, 2.0, -1.0], [3.0, -3.0, 0.5]], dtype=torch.float64)
    x = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    p = torch.sigmoid(logits)
    expected = -(x * p.log() + (1 - x) * (1 - p).log()).sum(1)
    checks.close('bernoulli_nll on two rows of three pixels', bernoulli_nll(logits, x), expected, hint='sum over the pixel dimension (dim=1) only, giving one value per row.')


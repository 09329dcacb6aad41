from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="At logit 0, D = 1/2 and -log D = log 2.")
def test_value_at_zero(generator_loss_non_saturating):
    import math
    import torch
    from gencourse.exercises import checks
    checks.close('generator_loss_non_saturating(zeros)', generator_loss_non_saturating(torch.zeros(3, dtype=torch.float64)), torch.tensor(math.log(2)), hint='-log sigmoid(l) = softplus(-l), averaged over the batch.')


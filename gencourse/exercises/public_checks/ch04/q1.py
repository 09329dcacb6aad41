from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="A discriminator that says 1/2 everywhere (logit 0) has loss 2 log 2.")
def test_undecided_discriminator(discriminator_loss):
    import math
    import torch
    from gencourse.exercises import checks
    zeros = torch.zeros(4, dtype=torch.float64)
    checks.close('discriminator_loss with every logit 0', discriminator_loss(zeros, zeros), torch.tensor(2 * math.log(2)), hint='-log(1/2) for the real batch plus -log(1/2) for the fake one, each averaged over the batch.')


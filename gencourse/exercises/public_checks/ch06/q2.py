from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="With T = 0 everywhere the discriminator says 1/2 to every pair: the loss is 2 log 2.")
def test_undecided(avb_discriminator_loss):
    import math
    import torch
    from gencourse.exercises import checks
    zeros = torch.zeros(5, dtype=torch.float64)
    checks.close('avb_discriminator_loss with T = 0', avb_discriminator_loss(zeros, zeros), torch.tensor(2 * math.log(2)), hint='softplus(-t) for the encoder pairs plus softplus(t) for the prior pairs, each averaged.')


from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="A discriminator that says 1/2 everywhere (logit 0): the discriminator's loss is 2 log 2, the encoder's log 2.")
def test_undecided_discriminator(aae_discriminator_loss, aae_encoder_loss):
    import math
    import torch
    from gencourse.exercises import checks
    zeros = torch.zeros(4, dtype=torch.float64)
    checks.close('aae_discriminator_loss with every logit 0', aae_discriminator_loss(zeros, zeros), torch.tensor(2 * math.log(2)), hint='-log(1/2) for the prior batch plus -log(1/2) for the codes, each averaged.')
    checks.close('aae_encoder_loss with every logit 0', aae_encoder_loss(zeros), torch.tensor(math.log(2)), hint='-log sigmoid(l) = softplus(-l), averaged over the batch.')


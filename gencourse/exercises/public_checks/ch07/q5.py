from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="With alpha = 0 and y = 1/2 the logit's log-determinant is log 4 per dimension: 8 - 2 = 6 bits when log p_V = 0.")
def test_half_grey(bits_per_dim):
    import math
    import torch
    from gencourse.exercises import checks
    y = torch.full((2, 4), 0.5, dtype=torch.float64)
    log_pv = torch.tensor([0.0, -4 * math.log(2)], dtype=torch.float64)
    checks.close('bits_per_dim of two grey images with alpha = 0', bits_per_dim(log_pv, y, 0.0), torch.tensor([6.0, 7.0]), hint="add the logit's log-determinant to log p_V, then add D log 256 to -log p_Y and divide by D log 2.")


from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="With b = (1, 0), z_1 = x_1 and z_2 = x_2 exp(s_2) + t_2; the log-determinant is s_2.")
def test_two_dimensions(affine_coupling):
    import math
    import torch
    from gencourse.exercises import checks
    x = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    b = torch.tensor([1.0, 0.0], dtype=torch.float64)

    def s_net(v):
        return v.flip(1)

    def t_net(v):
        return 2 * v.flip(1)
    answer = affine_coupling(x, b, s_net, t_net)
    checks.answered('affine_coupling(x, b, s_net, t_net)', answer)
    z, log_det = answer
    checks.close('z of the coupling at x = (1, 3)', z, torch.tensor([[1.0, 3 * math.e + 2.0]]), hint='the kept coordinate passes unchanged; the free one is scaled by exp(s) and shifted by t.')
    checks.close('log_det of the coupling at x = (1, 3)', log_det, torch.tensor([1.0]), hint='sum (1 - b) * s over the coordinates, one value per example.')


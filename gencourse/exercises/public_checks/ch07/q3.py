from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="Undo the shift first, then the scale: x_2 = (z_2 - t_2) exp(-s_2).")
def test_two_dimensions(affine_coupling_inverse):
    import math
    import torch
    from gencourse.exercises import checks
    z = torch.tensor([[1.0, 3 * math.e + 2.0]], dtype=torch.float64)
    b = torch.tensor([1.0, 0.0], dtype=torch.float64)

    def s_net(v):
        return v.flip(1)

    def t_net(v):
        return 2 * v.flip(1)
    checks.close('affine_coupling_inverse at z = (1, 3e + 2)', affine_coupling_inverse(z, b, s_net, t_net), torch.tensor([[1.0, 3.0]]), hint='the networks see b * z, which equals b * x.')


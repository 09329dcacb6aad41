from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="With w = (1, 0) and u = (0, 1), w.u = 0 and u_hat = (log 2 - 1, 1); at z = 0 the log-determinant is log(log 2).")
def test_small_case(planar_flow):
    import math
    import torch
    from gencourse.exercises import checks
    w = torch.tensor([1.0, 0.0], dtype=torch.float64)
    u = torch.tensor([0.0, 1.0], dtype=torch.float64)
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    answer = planar_flow(z, w, u, 0.0)
    checks.answered('planar_flow(z, w, u, 0)', answer)
    g, log_det = answer
    h = math.tanh(1.0)
    m = math.log(2.0) - 1
    checks.close('g(z) at z = (0, 0) and (1, 0)', g, torch.tensor([[0.0, 0.0], [1 + h * m, h]]), hint='use u_hat, not u, in the layer.')
    checks.close('log_det at z = (0, 0) and (1, 0)', log_det, torch.tensor([math.log(1 + m), math.log(1 + (1 - h * h) * m)]), hint="the determinant is 1 + tanh'(w.z + b) w.u_hat, with tanh' = 1 - tanh^2.")


from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="With K = 1 the bound is the one log-weight; with K equal log-weights it is that value again.")
def test_small_cases(iwae_bound):
    import torch
    from gencourse.exercises import checks
    log_w = torch.tensor([[-1.0, 2.0]], dtype=torch.float64)
    checks.close('iwae_bound with K = 1', iwae_bound(log_w), torch.tensor([-1.0, 2.0]), hint='reduce over the first dimension (the K samples), keeping one value per input.')
    checks.close('iwae_bound of 4 equal log-weights', iwae_bound(torch.full((4, 2), -3.0, dtype=torch.float64)), torch.tensor([-3.0, -3.0]), hint='the average of K equal weights is that weight: subtract log K.')


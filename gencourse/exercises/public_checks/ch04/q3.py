from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 3

@test_case(points=1, hidden=False, 
    failure_message="JS(p || p) = 0, and JS is log 2 for distributions on disjoint bins.")
def test_extremes(js_divergence):
    import math
    import torch
    from gencourse.exercises import checks
    p = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    q = torch.tensor([0.0, 0.0, 0.25, 0.75], dtype=torch.float64)
    checks.close('js_divergence(p, p)', js_divergence(p, p), torch.tensor(0.0), hint='empty bins contribute 0: use torch.xlogy(p, p) for p log p.')
    checks.close('js_divergence on disjoint supports', js_divergence(p, q), torch.tensor(math.log(2)), hint='on disjoint supports m = p/2 where p lives, so KL(p || m) = log 2.')


from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="Identical distributions are at distance 0 in all four senses.")
def test_theta_zero(parallel_lines):
    from gencourse.exercises import checks
    checks.equal('parallel_lines(0.0)', tuple((float(v) for v in parallel_lines(0.0))), (0.0, 0.0, 0.0, 0.0), hint='return a tuple (w1, js, kl, tv).')


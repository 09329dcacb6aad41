from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="The weight is 0 at step 0, beta / 2 half-way, and beta from warmup_steps on.")
def test_schedule(kl_weight):
    from gencourse.exercises import checks
    checks.close('kl_weight(0, 100, 1.0)', kl_weight(0, 100, 1.0), 0.0)
    checks.close('kl_weight(50, 100, 1.0)', kl_weight(50, 100, 1.0), 0.5, hint='linear in step.')
    checks.close('kl_weight(500, 100, 1.0)', kl_weight(500, 100, 1.0), 1.0, hint='stay at beta after the warm-up.')


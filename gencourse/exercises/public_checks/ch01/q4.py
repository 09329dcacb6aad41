from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=1, hidden=False, 
    failure_message="One Gaussian on the line has a mean and a variance.")
def test_one_gaussian_on_the_line(gmm_num_parameters):
    from gencourse.exercises import checks
    checks.equal('gmm_num_parameters(K=1, D=1)', gmm_num_parameters(1, 1), 2, hint='with one component the weight is fixed at 1.')


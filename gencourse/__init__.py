"""gencourse: the models, losses, data, training loops, metrics and plots of the course.

Importing the package changes no global state: nothing is seeded, no device or thread
count is set. Each notebook does that explicitly with :func:`gencourse.runtime.setup`.
"""

from gencourse.runtime import Profile, budget, get_device, get_profile, seed_everything, setup

__version__ = "0.1.0"

__all__ = [
    "Profile",
    "budget",
    "get_device",
    "get_profile",
    "seed_everything",
    "setup",
    "__version__",
]

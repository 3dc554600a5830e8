"""JupyterHub for a class taking the course, on one Linux machine (started by ``python -m hub``, which prepares the
machine and sets the ``COURSE_HUB_*`` variables this file reads; see hub/__init__.py and the README).

* Users are the machine's accounts in the students' and the instructors' groups, who log in with their Linux
  password (PAM). Instructors are the hub's admins.
* Each user's JupyterLab runs as that user (LocalProcessSpawner), with the course's Python environment (its kernel
  is the course's), in their home folder; an instructor's opens in the course folder, where nbgrader_config.py is.
* The role's configuration comes first on JUPYTER_CONFIG_PATH (hub/roles/): students have the Assignments tab and
  Validate, not the formgrader, Create Assignment or the course list; everyone has the course's exchange.
* The proxy is configurable-http-proxy from hub/node_modules (npm ci, done by ``python -m hub``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub import PROXY, Settings, make_home_private, role_of, user_environment  # noqa: E402

c = get_config()  # noqa: F821  (injected by traitlets)
settings = Settings.from_environment()
state = Path(settings.state)

c.JupyterHub.bind_url = f"http://{settings.ip}:{settings.port}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.hub_port}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(PROXY)]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
# Stopping the hub stops every user's server and the proxy: nothing is left running.
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {settings.students_group, settings.instructors_group}
c.PAMAuthenticator.admin_groups = {settings.instructors_group}

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [settings.python, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
# A user's own ~/.jupyter is not read: the role's configuration is what their JupyterLab shows.
c.Spawner.disable_user_config = True
# A class logging in at once on a small machine: give JupyterLab time to start.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180


def prepare_spawn(spawner):
    """Before a user's JupyterLab starts: its role's environment, a private home, and the course folder for an
    instructor. A user in neither group is refused (PAM's allowed_groups already refuses them at login)."""
    name = spawner.user.name
    role = role_of(name, settings)
    if role is None:
        raise PermissionError(f"{name} is in neither {settings.students_group} nor {settings.instructors_group}")
    if make_home_private(name):
        spawner.log.warning("Home folder of %s was readable by other users: made private (0700)", name)
    spawner.environment = user_environment(role, settings)
    if role == "instructor":
        spawner.notebook_dir = settings.course


c.Spawner.pre_spawn_hook = prepare_spawn

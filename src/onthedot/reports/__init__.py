"""Reports on how punctual the broadcaster was: the lateness of the posts due in one minute."""

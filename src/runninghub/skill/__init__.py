"""Ship runninghub as an agent skill: the folder's files and their safe installation.

``render`` makes the files (one source for every host and for the repository's own
``SKILL.md``); ``install`` writes, replaces and removes skill folders. ``python -m
runninghub.skill`` prints the repository's ``SKILL.md`` (a test keeps the file equal to it).
"""

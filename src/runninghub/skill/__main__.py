"""``python -m runninghub.skill > SKILL.md``: regenerate the repository's own SKILL.md."""

import sys

from runninghub.skill.render import repository_skill_md

if __name__ == "__main__":
    sys.stdout.write(repository_skill_md())

"""Skill-progress: PROGRESS's round rule over the skills the teacher names (`method`, `selector`)."""

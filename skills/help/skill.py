"""Intent handler of the help skill."""

from __future__ import annotations

from typing import ClassVar

from assistant.skill import Context, Skill, intent


class HelpSkill(Skill):
    """Say what the assistant can do: each enabled skill's `description` in the conversation language."""

    name = "help"
    description: ClassVar[dict[str, str]] = {
        "en": "tell you what I can do",
        "fr": "vous dire ce que je sais faire",
    }

    @intent("capabilities")
    async def what_i_can_do(self, ctx: Context) -> None:
        described = ctx.skill_descriptions()
        others = [text for name, text in described.items() if name != ctx.skill_name]
        ctx.emit("help", skills=[name for name in described if name != ctx.skill_name])
        if not others:
            ctx.say("nothing")
            return
        ctx.say("intro")
        for text in others:
            ctx.say("skill", description=text[:1].upper() + text[1:])
        ctx.say("outro")

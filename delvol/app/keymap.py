"""The viewer's keys: one table drives both the dispatch and the H help text."""

from __future__ import annotations

# Keys that move the camera while held, by logical key name.
HELD_MOTIONS = {
    "w": "forward", "up": "forward",
    "s": "back", "down": "back",
    "a": "left", "left": "left",
    "d": "right", "right": "right",
    "q": "down", "c": "down",
    "e": "up", "space": "up",
}  # fmt: skip

# (keys, command, help). A key written "shift+x" needs Shift; "ctrl+x" needs Ctrl.
COMMANDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("tab",), "toggle_mode", "switch between fly and orbit mode"),
    (("r",), "reset", "reset the view to fit the data"),
    (("o",), "toggle_projection", "perspective / orthographic"),
    (("equal", "plus"), "exposure_up", "exposure +1/4 stop"),
    (("minus",), "exposure_down", "exposure -1/4 stop"),
    (("t",), "cycle_stretch", "cycle the stretch: log, asinh, linear"),
    (("m",), "cycle_colormap", "next colormap (Shift: previous)"),
    (("shift+m",), "cycle_colormap_back", ""),
    (("z",), "cycle_render_mode", "cycle the volume: faces, integral, opacity"),
    (("b",), "opacity_up", "opacity x2 (Shift: /2)"),
    (("shift+b",), "opacity_down", ""),
    (("n",), "cycle_iso", "cycle the isosurfaces shown: all, then each level (--iso)"),
    (("g",), "cycle_weighting", "cycle the face weighting: sum, length, area"),
    (("left_bracket",), "clim_floor_down", "lower colour limit -0.1 dex"),
    (("right_bracket",), "clim_floor_up", "lower colour limit +0.1 dex"),
    (("shift+left_bracket",), "clim_top_down", "upper colour limit -0.1 dex"),
    (("shift+right_bracket",), "clim_top_up", "upper colour limit +0.1 dex"),
    (("0",), "auto_clim", "colour limits from the percentiles of this view"),
    (("v",), "cycle_field", "colour by the next field (Shift: previous); density alone among them"),
    (("shift+v",), "cycle_field_back", ""),
    (("f",), "color_clim_wider", "widen the field colour limits by 25% (Shift: narrow them)"),
    (("shift+f",), "color_clim_narrower", ""),
    (("j",), "color_clim_down", "move the field colour limits down by a tenth of their width (Shift: up)"),
    (("shift+j",), "color_clim_up", ""),
    (("9",), "auto_color_clim", "field colour limits from the percentiles of this view"),
    (("u",), "toggle_color_log", "colour by the field or by its log10"),
    (("7",), "toggle_legend", "show / hide the field's colour bar"),
    (("1",), "toggle_faces", "show / hide the Delaunay faces"),
    (("2",), "toggle_points", "show / hide the dense points"),
    (("3",), "toggle_overlays", "show / hide the .obj overlays"),
    (("4",), "toggle_hull", "show / hide faces touching the hull"),
    (("x",), "cycle_cut", "cut plane: off, half-space, slab (facing the view)"),
    (("period",), "cut_forward", "move the cut plane away (Shift: faster)"),
    (("shift+period",), "cut_forward_fast", ""),
    (("comma",), "cut_back", "move the cut plane back (Shift: faster)"),
    (("shift+comma",), "cut_back_fast", ""),
    (("5",), "toggle_path", "show / hide the camera path"),
    (("6",), "toggle_sprites", "show / hide the galaxy thumbnails (--sprites)"),
    (("i",), "pick_centre", "print the galaxy at the screen centre and show its picture (or click one)"),
    (("k",), "add_keyframe", "append the current view as a keyframe"),
    (("backspace",), "drop_keyframe", "remove the last keyframe"),
    (("ctrl+s",), "save_path", "save the keyframes as a path file (--path-out)"),
    (("l",), "play_path", "play the keyframed path at movie speed (L again stops)"),
    (("p", "f12"), "screenshot", "save a screenshot"),
    (("h",), "help", "print this key map"),
)

MOUSE_HELP = (
    ("W A S D / arrows", "move (hold Shift to go 5x faster)"),
    ("Q E / C Space", "down / up"),
    ("drag", "look around (fly) or orbit the focus (orbit)"),
    ("scroll", "fly speed (fly) or zoom (orbit, orthographic)"),
    ("click", "print a galaxy's catalogue row and show its picture (--sprites); elsewhere: hide it"),
    ("Esc", "quit"),
)


def command_for(key: str, shift: bool, ctrl: bool) -> str | None:
    """The command bound to a key press with these modifiers, if any."""
    name = ("ctrl+" if ctrl else "") + ("shift+" if shift else "") + key
    for keys, command, _ in COMMANDS:
        if name in keys:
            return command
    if shift and not ctrl:  # Shift without its own binding falls back to the plain key
        return command_for(key, False, False)
    return None


_LABELS = {"equal": "=", "plus": "+", "minus": "-", "left_bracket": "[", "right_bracket": "]",
           "period": ".", "comma": ",", "backspace": "Backspace"}  # fmt: skip


def _label(key: str) -> str:
    *mods, name = key.split("+")
    return "+".join([m.capitalize() for m in mods] + [_LABELS.get(name, name.upper())])


def help_text() -> str:
    """The key map, as printed by H."""
    rows = list(MOUSE_HELP)
    rows += [(" / ".join(_label(k) for k in keys), text) for keys, _, text in COMMANDS if text]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {text}" for k, text in rows)

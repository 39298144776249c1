"""Visuals: each owns its GPU buffers and program, and exposes set_data / draw / release.

A visual never touches the window; the renderer decides where and when it draws.
"""

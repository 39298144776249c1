"""What is drawn and from where, without OpenGL: camera, camera paths, look, colormaps,
galaxy sprite layout and thumbnails. Pure NumPy/SciPy, tested without a GL context."""

"""Learning by doing: exercises a learner writes, checked against nnscratch's own equations.

    nnscratch exercises DIR [--notation rows|columns]   the ladder of exercise files, to fill in
    nnscratch check DIR (or one file)                    each exercise: passed, not started, or
                                                         wrong, with the slip it looks like

    exercises.py  the ladder: each exercise's functions, equations, shapes and hints
    reference.py  the reference answers (nnscratch's own functions) and the inputs they are
                  checked on, in either notation
    slips.py      the known wrong forms, recognised in a wrong answer (a transposed result,
                  a sum for a mean, a derivative taken at the activation, ...)
    grader.py     runs a learner's file in a child process with a time and memory limit, and
                  reports each function

The learner's code never runs in the grader's process, and their files are never written.
Depends on the core (activations, losses, layers, optim, datasets); nothing depends on it.
"""

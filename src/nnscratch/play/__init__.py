"""The playground: ``nnscratch play`` serves a page where nnscratch's own network learns toy
2-D data live, every neuron drawn and its equations shown with the numbers of the step.

    engine.py     the data, the network, the frames and the equations (plain nnscratch)
    server.py     the standard library's HTTP server and the page's JSON API, locked down
    static/       the page: index.html, style.css and its ES modules (main.js lists them;
                  vanilla JS, nothing from the web), its defaults and limits from the engine
"""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'report.html.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_csp = resolve('csp')
    l_0_r = resolve('r')
    l_0_m = resolve('m')
    l_0_css = resolve('css')
    l_0_compare = resolve('compare')
    l_0_t = resolve('t')
    l_0_graph_svg = resolve('graph_svg')
    l_0_svg_withheld = resolve('svg_withheld')
    l_0_tr = resolve('tr')
    l_0_curves = resolve('curves')
    l_0_hist = resolve('hist')
    l_0_js = resolve('js')
    try:
        t_1 = environment.filters['cls']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'cls' found.")
    try:
        t_2 = environment.filters['count']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'count' found.")
    try:
        t_3 = environment.filters['format']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'format' found.")
    try:
        t_4 = environment.filters['join']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'join' found.")
    try:
        t_5 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_6 = environment.filters['list']
    except KeyError:
        @internalcode
        def t_6(*unused):
            raise TemplateRuntimeError("No filter named 'list' found.")
    try:
        t_7 = environment.filters['min']
    except KeyError:
        @internalcode
        def t_7(*unused):
            raise TemplateRuntimeError("No filter named 'min' found.")
    try:
        t_8 = environment.filters['num']
    except KeyError:
        @internalcode
        def t_8(*unused):
            raise TemplateRuntimeError("No filter named 'num' found.")
    try:
        t_9 = environment.filters['pct']
    except KeyError:
        @internalcode
        def t_9(*unused):
            raise TemplateRuntimeError("No filter named 'pct' found.")
    try:
        t_10 = environment.filters['replace']
    except KeyError:
        @internalcode
        def t_10(*unused):
            raise TemplateRuntimeError("No filter named 'replace' found.")
    try:
        t_11 = environment.filters['select']
    except KeyError:
        @internalcode
        def t_11(*unused):
            raise TemplateRuntimeError("No filter named 'select' found.")
    try:
        t_12 = environment.filters['selectattr']
    except KeyError:
        @internalcode
        def t_12(*unused):
            raise TemplateRuntimeError("No filter named 'selectattr' found.")
    try:
        t_13 = environment.filters['shape']
    except KeyError:
        @internalcode
        def t_13(*unused):
            raise TemplateRuntimeError("No filter named 'shape' found.")
    try:
        t_14 = environment.filters['size']
    except KeyError:
        @internalcode
        def t_14(*unused):
            raise TemplateRuntimeError("No filter named 'size' found.")
    try:
        t_15 = environment.filters['tojson']
    except KeyError:
        @internalcode
        def t_15(*unused):
            raise TemplateRuntimeError("No filter named 'tojson' found.")
    try:
        t_16 = environment.tests['float']
    except KeyError:
        @internalcode
        def t_16(*unused):
            raise TemplateRuntimeError("No test named 'float' found.")
    try:
        t_17 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_17(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    pass
    yield '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta http-equiv="Content-Security-Policy" content="'
    yield escape((undefined(name='csp') if l_0_csp is missing else l_0_csp))
    yield '">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta name="generator" content="kinspect '
    yield escape(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'version'))
    yield '">\n<title>'
    yield escape(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'name'))
    yield ' · kinspect report</title>\n<style>'
    yield escape((undefined(name='css') if l_0_css is missing else l_0_css))
    yield '</style>\n</head>\n<body>\n<header>\n<h1><span class="model-name">'
    yield escape(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'name'))
    yield '</span> <span class="muted">'
    yield escape(t_1(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'class_name')))
    yield '</span></h1>\n<p id="verdict" class="verdict '
    yield escape(('ok' if (environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'problems') == 0) else 'bad'))
    yield '">'
    yield escape(('Healthy' if (environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'problems') == 0) else environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'verdict')))
    if (environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'problems') == 0):
        pass
        yield ': no problems found'
    else:
        pass
        yield ' found'
    if t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'tensors')):
        pass
        yield ' (weights not read)'
    yield '</p>\n<nav>\n<a href="#overview">Overview</a>\n<a href="#layers">Layers</a>\n'
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'cost'))):
        pass
        yield '<a href="#cost">Cost</a>\n'
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'))):
        pass
        yield '<a href="#graph">Graph</a>\n'
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'tensors'))):
        pass
        yield '<a href="#weights">Weights</a>\n'
    if (not t_17((undefined(name='compare') if l_0_compare is missing else l_0_compare))):
        pass
        yield '<a href="#compare">Compared with</a>\n'
    yield '<a href="#diagnostics">Diagnostics</a>\n'
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'training'))):
        pass
        yield '<a href="#training">Training</a>\n'
    yield '<a href="#notes">Notes</a>\n</nav>\n</header>\n<main>\n<section id="overview">\n<h2>Overview</h2>\n<div class="cards">\n<dl class="card">\n<dt>File</dt><dd class="mono">'
    yield escape(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'path'))
    yield '</dd>\n<dt>Format</dt><dd>'
    yield escape(environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'format'), 'value'))
    yield '</dd>\n<dt>Size</dt><dd>'
    yield escape(t_14(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'file_size')))
    yield ' ('
    yield escape(t_2(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'file_size')))
    yield ' bytes)</dd>\n<dt>Keras version</dt><dd>'
    yield escape((environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'keras_version') or 'unknown'))
    yield '</dd>\n<dt>Backend</dt><dd>'
    yield escape((environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'backend') or 'unknown'))
    yield '</dd>\n<dt>Saved</dt><dd>'
    yield escape((environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'date_saved') or 'unknown'))
    yield '</dd>\n<dt>Model class</dt><dd>'
    if environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'has_architecture'):
        pass
        yield escape(t_1(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'class_name')))
        yield ' <span class="mono">'
        yield escape(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'name'))
        yield '</span>'
    else:
        pass
        yield 'unknown (weights only)'
    yield '</dd>\n'
    if environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'dtype'):
        pass
        yield '<dt>dtype policy</dt><dd>'
        yield escape(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'dtype'))
        yield '</dd>\n'
    yield '</dl>\n<dl class="card">\n<dt>Inputs</dt><dd>'
    t_18 = 1
    for l_1_p in environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'inputs'):
        _loop_vars = {}
        pass
        yield '<div class="mono">'
        yield escape(environment.getattr(l_1_p, 'ref'))
        yield ' <span class="muted">'
        yield escape(t_13(environment.getattr(l_1_p, 'shape')))
        yield '</span></div>'
        t_18 = 0
    l_1_p = missing
    if t_18:
        pass
        yield 'unknown'
    yield '</dd>\n<dt>Outputs</dt><dd>'
    t_19 = 1
    for l_1_p in environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'outputs'):
        _loop_vars = {}
        pass
        yield '<div class="mono">'
        yield escape(environment.getattr(l_1_p, 'ref'))
        yield ' <span class="muted">'
        yield escape(t_13(environment.getattr(l_1_p, 'shape')))
        yield '</span></div>'
        t_19 = 0
    l_1_p = missing
    if t_19:
        pass
        yield 'unknown'
    yield '</dd>\n'
    if ((not t_17(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'))) and ((environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'optimizer') or (not t_17(environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'loss')))) or environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'metrics'))):
        pass
        yield '<dt>Optimizer</dt><dd>'
        yield escape((environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'optimizer') or 'unknown'))
        if (not t_17(environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'learning_rate'))):
            pass
            yield ' (learning rate '
            yield escape(t_8(environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'learning_rate')))
            yield ')'
        yield '</dd>\n<dt>Loss</dt><dd class="mono">'
        yield escape((environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'loss') if (not t_17(environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'loss'))) else '–'))
        yield '</dd>\n<dt>Metrics</dt><dd class="mono">'
        yield escape((environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'metrics') if environment.getattr(environment.getattr((undefined(name='m') if l_0_m is missing else l_0_m), 'compile'), 'metrics') else '–'))
        yield '</dd>\n'
    else:
        pass
        yield '<dt>Compiled</dt><dd>no (no optimizer, loss or metrics saved)</dd>\n'
    yield '</dl>\n<table id="totals" class="card">\n<thead><tr><th>Parameters</th><th class="num">Count</th><th class="num">Memory</th></tr></thead>\n<tbody>\n'
    if (not t_17((undefined(name='t') if l_0_t is missing else l_0_t))):
        pass
        yield '<tr data-total="total"><td>Total</td><td class="num">'
        yield escape(t_2(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'total')))
        yield '</td><td class="num">'
        yield escape(t_14(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'total_bytes')))
        yield '</td></tr>\n'
        if environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'uncertain'):
            pass
            yield '<tr data-total="trainable" class="uncertain" title="uncertain: the file does not say which weights of custom layers are trainable"><td>Trainable (uncertain)</td><td class="num">'
            yield escape(t_2(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'trainable_low')))
            yield '–'
            yield escape(t_2((environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'trainable_low') + environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'uncertain'))))
            yield '</td><td class="num">'
            yield escape(t_14(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'trainable_low_bytes')))
            yield '–'
            yield escape(t_14((environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'trainable_low_bytes') + environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'uncertain_bytes'))))
            yield '</td></tr>\n<tr data-total="non_trainable" class="uncertain" title="uncertain: the file does not say which weights of custom layers are trainable"><td>Non-trainable (uncertain)</td><td class="num">'
            yield escape(t_2(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'non_trainable_low')))
            yield '–'
            yield escape(t_2((environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'non_trainable_low') + environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'uncertain'))))
            yield '</td><td class="num">'
            yield escape(t_14(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'non_trainable_low_bytes')))
            yield '–'
            yield escape(t_14((environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'non_trainable_low_bytes') + environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'uncertain_bytes'))))
            yield '</td></tr>\n'
        else:
            pass
            yield '<tr data-total="trainable"><td>Trainable</td><td class="num">'
            yield escape(t_2(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'trainable')))
            yield '</td><td class="num">'
            yield escape(t_14(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'trainable_bytes')))
            yield '</td></tr>\n<tr data-total="non_trainable"><td>Non-trainable</td><td class="num">'
            yield escape(t_2(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'non_trainable')))
            yield '</td><td class="num">'
            yield escape(t_14(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'non_trainable_bytes')))
            yield '</td></tr>\n'
        yield '<tr data-total="optimizer"><td>Optimizer</td><td class="num">'
        yield escape(t_2(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'optimizer')))
        yield '</td><td class="num">'
        yield escape(t_14(environment.getattr((undefined(name='t') if l_0_t is missing else l_0_t), 'optimizer_bytes')))
        yield '</td></tr>\n'
    else:
        pass
        yield '<tr><td colspan="3">unknown: the file holds no weights</td></tr>\n'
    yield '</tbody>\n</table>\n</div>\n</section>\n<section id="layers">\n<h2>Layers <span class="muted">('
    yield escape(t_5(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'layers')))
    yield ')</span></h2>\n<div class="tools"><input type="search" id="layer-search" placeholder="Filter layers by name or type" aria-label="Filter layers">\n'
    if t_6(context.eval_ctx, t_12(context, environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'layers'), 'children')):
        pass
        yield '<button type="button" id="expand-all">Expand all</button> <button type="button" id="collapse-all">Collapse all</button>'
    yield '<span id="layer-count" class="muted"></span></div>\n<div class="scroll">\n<table id="layer-table" class="sortable data">\n<thead><tr><th data-type="index">#</th><th data-type="text">Layer</th><th data-type="text">Type</th><th data-type="text">Output shape</th><th data-type="num">Params</th><th data-type="num">Share</th><th data-type="text">Trainable</th><th data-type="text">Connected to</th></tr></thead>\n<tbody>\n'
    for l_1_row in environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'layers'):
        _loop_vars = {}
        pass
        yield '<tr id="L'
        yield escape(environment.getattr(l_1_row, 'key'))
        yield '"'
        if (not t_17(environment.getattr(l_1_row, 'parent'))):
            pass
            yield ' data-parent="'
            yield escape(environment.getattr(l_1_row, 'parent'))
            yield '" hidden'
        if (environment.getattr(l_1_row, 'depth') or environment.getattr(l_1_row, 'problems')):
            pass
            yield ' class="'
            yield escape((t_3('d%d', t_7(environment, [environment.getattr(l_1_row, 'depth'), 6])) if environment.getattr(l_1_row, 'depth') else cond_expr_undefined("the inline if-expression on line 89 in 'report.html.j2' evaluated to false and no else section was defined.")))
            yield escape((' flag' if environment.getattr(l_1_row, 'problems') else cond_expr_undefined("the inline if-expression on line 89 in 'report.html.j2' evaluated to false and no else section was defined.")))
            yield '"'
        yield '><td>'
        yield escape((environment.getattr(l_1_row, 'key') + 1))
        yield '</td><td>'
        if environment.getattr(l_1_row, 'children'):
            pass
            yield '<button type="button" class="tog" aria-expanded="false" title="Show the '
            yield escape(environment.getattr(l_1_row, 'children'))
            yield ' nested layers">+</button>'
        yield '<span>'
        yield escape(environment.getattr(l_1_row, 'name'))
        yield '</span>'
        if environment.getattr(l_1_row, 'problems'):
            pass
            yield ' <a class="badge" href="#diagnostics" title="findings on this layer">'
            yield escape(environment.getattr(l_1_row, 'problems'))
            yield '</a>'
        for l_2_n in environment.getattr(l_1_row, 'notes'):
            _loop_vars = {}
            pass
            yield '<div class="note">'
            yield escape(l_2_n)
            yield '</div>'
        l_2_n = missing
        yield '</td><td>'
        yield escape(t_1(environment.getattr(l_1_row, 'class_name')))
        yield '</td><td>'
        yield escape(t_13(environment.getattr(l_1_row, 'output_shape')))
        yield '</td><td>'
        yield escape(t_2(environment.getattr(l_1_row, 'params')))
        yield '</td><td><span class="barbox"><span class="bar" style="width:'
        yield escape(t_3('%.1f', (100 * environment.getattr(l_1_row, 'share'))))
        yield '%"></span></span>'
        yield escape(t_9(environment.getattr(l_1_row, 'share')))
        yield '</td><td>'
        yield escape(('–' if t_17(environment.getattr(l_1_row, 'trainable')) else ('Y' if environment.getattr(l_1_row, 'trainable') else 'N')))
        yield '</td><td>'
        yield escape(t_4(context.eval_ctx, environment.getattr(l_1_row, 'connections'), ', '))
        yield '</td></tr>\n'
    l_1_row = missing
    yield '</tbody>\n</table>\n</div>\n'
    if (not environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'layers')):
        pass
        yield '<p class="muted">The file records no layers.</p>'
    yield '</section>\n'
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'cost'))):
        pass
        template = environment.get_template('cost.html.j2', 'report.html.j2')
        gen = template.root_render_func(template.new_context(context.get_all(), True, {'tr': l_0_tr}))
        try:
            for event in gen:
                yield event
        finally: gen.close()
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'))):
        pass
        yield '<section id="graph">\n<h2>Graph</h2>\n'
        if (undefined(name='graph_svg') if l_0_graph_svg is missing else l_0_graph_svg):
            pass
            yield '<div class="tools"><button type="button" id="zoom-in" title="Zoom in">+</button> <button type="button" id="zoom-out" title="Zoom out">−</button> <button type="button" id="zoom-fit">Fit</button> <button type="button" id="zoom-reset">Top</button> <span class="muted">Drag to pan, wheel to zoom.</span>'
            if environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'), 'image'):
                pass
                yield ' <a href="'
                yield escape(environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'), 'image'))
                yield '">'
                yield escape(environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'), 'image'))
                yield '</a>'
            yield '</div>\n<div id="graph-view"></div>\n<template id="graph-svg">'
            yield escape((undefined(name='graph_svg') if l_0_graph_svg is missing else l_0_graph_svg))
            yield '</template>\n'
        else:
            pass
            yield '<p class="missing">'
            if (undefined(name='svg_withheld') if l_0_svg_withheld is missing else l_0_svg_withheld):
                pass
                yield "The drawing was not inlined: Graphviz's SVG held unexpected markup."
            else:
                pass
                yield 'No drawing: '
                yield escape((t_4(context.eval_ctx, environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'), 'notes'), '; ') or 'Graphviz did not draw the graph.'))
            if environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'), 'image'):
                pass
                yield ' See <a href="'
                yield escape(environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'), 'image'))
                yield '">'
                yield escape(environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'graph'), 'image'))
                yield '</a>.'
            yield '</p>\n'
        yield '</section>\n'
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'tensors'))):
        pass
        yield '<section id="weights">\n<h2>Weights <span class="muted">('
        yield escape(t_5(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'tensors')))
        yield ' tensors'
        if environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'weights'):
            pass
            yield ' · '
            yield escape(t_2(environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'weights'), 'total_values')))
            yield ' values · '
            yield escape(t_14(environment.getattr(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'weights'), 'total_bytes')))
        yield ')</span></h2>\n<div class="tools"><input type="search" id="weight-search" placeholder="Filter tensors by layer or name" aria-label="Filter tensors"> <label><input type="checkbox" id="flagged-only"> flagged only</label></div>\n<div class="scroll">\n<table id="weight-table" class="sortable data">\n<thead><tr><th data-type="text">Layer</th><th data-type="text">Weight</th><th data-type="text">Shape</th><th data-type="text">DType</th><th data-type="num">Size</th><th data-type="num">Min</th><th data-type="num">Max</th><th data-type="num">Mean</th><th data-type="num">Std</th><th data-type="num">Zeros</th><th data-type="num">NaN</th><th data-type="num">Inf</th><th>Histogram'
        if environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'bins'):
            pass
            yield ' ('
            yield escape(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'bins'))
            yield ' bins)'
        yield '</th><th data-type="text">Findings</th></tr></thead>\n<tbody>\n'
        for l_1_row in environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'tensors'):
            l_1_s = l_1_cls = missing
            _loop_vars = {}
            pass
            l_1_s = environment.getattr(l_1_row, 'stats')
            _loop_vars['s'] = l_1_s
            l_1_cls = (([environment.getattr(l_1_row, 'kind')] if (environment.getattr(l_1_row, 'kind') != 'weight') else []) + (['bad'] if (environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'nan') or environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'inf')) else (['flag'] if (environment.getattr(l_1_row, 'severity') in ('error', 'warning')) else [])))
            _loop_vars['cls'] = l_1_cls
            yield '<tr'
            if (undefined(name='cls') if l_1_cls is missing else l_1_cls):
                pass
                yield ' class="'
                yield escape(t_4(context.eval_ctx, (undefined(name='cls') if l_1_cls is missing else l_1_cls), ' '))
                yield '"'
            yield '><td>'
            yield escape(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'layer'))
            yield '</td><td>'
            yield escape(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'name'))
            yield '</td><td>'
            yield escape(t_13(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'shape')))
            yield '</td><td>'
            yield escape(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'dtype'))
            yield '</td><td>'
            yield escape(t_2(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'size')))
            yield '</td>\n'
            if environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'error'):
                pass
                yield '<td colspan="8" class="missing">not read: '
                yield escape(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'error'))
                yield '</td>\n'
            else:
                pass
                yield '<td>'
                yield escape(t_8(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'min')))
                yield '</td><td>'
                yield escape(t_8(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'max')))
                yield '</td><td>'
                yield escape(t_8(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'mean')))
                yield '</td><td>'
                yield escape(t_8(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'std')))
                yield '</td><td>'
                yield escape(t_2(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'zeros')))
                yield '</td><td'
                if environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'nan'):
                    pass
                    yield ' class="hot"'
                yield '>'
                yield escape(t_2(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'nan')))
                yield '</td><td'
                if environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'inf'):
                    pass
                    yield ' class="hot"'
                yield '>'
                yield escape(t_2(environment.getattr((undefined(name='s') if l_1_s is missing else l_1_s), 'inf')))
                yield '</td><td class="hist"></td>\n'
            yield '<td>'
            yield escape(t_4(context.eval_ctx, environment.getattr(l_1_row, 'rules'), ' '))
            yield '</td></tr>\n'
        l_1_row = l_1_s = l_1_cls = missing
        yield '</tbody>\n</table>\n</div>\n'
        if (not environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'tensors')):
            pass
            yield '<p class="muted">The file holds no weights.</p>'
        yield '</section>\n'
    if (not t_17((undefined(name='compare') if l_0_compare is missing else l_0_compare))):
        pass
        template = environment.get_template('compare.html.j2', 'report.html.j2')
        gen = template.root_render_func(template.new_context(context.get_all(), True, {'tr': l_0_tr}))
        try:
            for event in gen:
                yield event
        finally: gen.close()
    yield '<section id="diagnostics">\n<h2>Diagnostics and checks <span class="muted">('
    yield escape(t_5(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'findings')))
    yield ')</span></h2>\n'
    if environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'findings'):
        pass
        yield '<div class="scroll">\n<table id="finding-table" class="sortable">\n<thead><tr><th data-type="text">Rule</th><th data-type="text">Severity</th><th data-type="text">Layer</th><th data-type="text">Message</th><th data-type="text">Hint</th></tr></thead>\n<tbody>\n'
        for l_1_f in environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'findings'):
            _loop_vars = {}
            pass
            yield '<tr class="sev-'
            yield escape(environment.getattr(environment.getattr(l_1_f, 'severity'), 'value'))
            yield '"><td class="mono">'
            yield escape(environment.getattr(l_1_f, 'rule'))
            yield '</td><td>'
            yield escape(environment.getattr(environment.getattr(l_1_f, 'severity'), 'value'))
            yield '</td><td class="mono">'
            yield escape((t_4(context.eval_ctx, t_11(context, [environment.getattr(l_1_f, 'layer'), environment.getattr(l_1_f, 'tensor')]), '/') or '–'))
            yield '</td><td>'
            yield escape(environment.getattr(l_1_f, 'message'))
            yield '</td><td>'
            yield escape((environment.getattr(l_1_f, 'hint') or ''))
            yield '</td></tr>\n'
        l_1_f = missing
        yield '</tbody>\n</table>\n</div>\n'
    else:
        pass
        yield '<p class="ok">No findings'
        if t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'tensors')):
            pass
            yield ' (the weights were not read: run without --no-weights for the numerics diagnostics)'
        yield '.</p>\n'
    yield '</section>\n'
    if (not t_17(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'training'))):
        pass
        l_0_tr = environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'training')
        context.vars['tr'] = l_0_tr
        context.exported_vars.add('tr')
        yield '<section id="training">\n<h2>Training <span class="muted">('
        yield escape(environment.getattr(environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'run'), 'epochs'))
        yield ' epochs'
        if environment.getattr(environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'best'), 'epoch'):
            pass
            yield ' · best epoch '
            yield escape(environment.getattr(environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'best'), 'epoch'))
            yield ', '
            yield escape(environment.getattr(environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'best'), 'monitor'))
            yield ' '
            yield escape(t_8(environment.getattr(environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'best'), 'value')))
        yield ')</span></h2>\n<p class="muted">'
        l_1_loop = missing
        for l_1_s, l_1_loop in LoopContext(environment.getattr(environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'run'), 'sources'), undefined):
            _loop_vars = {}
            pass
            yield '<span class="mono">'
            yield escape(environment.getattr(l_1_s, 'path'))
            yield '</span> ('
            yield escape(environment.getattr(environment.getattr(l_1_s, 'kind'), 'value'))
            yield ')'
            yield escape((', ' if (not environment.getattr(l_1_loop, 'last')) else cond_expr_undefined("the inline if-expression on line 156 in 'report.html.j2' evaluated to false and no else section was defined.")))
        l_1_loop = l_1_s = missing
        yield '. Epochs are 1-based, as fit() prints them and ModelCheckpoint names files.</p>\n'
        if (undefined(name='curves') if l_0_curves is missing else l_0_curves):
            pass
            yield '<div id="curves">'
            yield escape((undefined(name='curves') if l_0_curves is missing else l_0_curves))
            yield '</div>'
        if environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'events'):
            pass
            yield '<h3>Events</h3>\n<ul id="training-events">\n'
            for l_1_e in environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'events'):
                _loop_vars = {}
                pass
                yield '<li>epoch '
                yield escape(environment.getattr(l_1_e, 'epoch'))
                yield ': '
                yield escape(t_10(context.eval_ctx, environment.getattr(l_1_e, 'kind'), '_', ' '))
                for (l_2_k, l_2_v) in environment.getattr(l_1_e, 'data'):
                    _loop_vars = {}
                    pass
                    yield ' · '
                    yield escape(l_2_k)
                    yield ' '
                    yield escape((t_8(l_2_v) if t_16(l_2_v) else l_2_v))
                l_2_k = l_2_v = missing
                yield '</li>\n'
            l_1_e = missing
            yield '</ul>\n'
        yield '<h3>Findings</h3>\n'
        if environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'findings'):
            pass
            yield '<div class="scroll"><table id="training-findings">\n<thead><tr><th>Rule</th><th>Severity</th><th>Epoch</th><th>Weight</th><th>Message</th><th>Hint</th></tr></thead>\n<tbody>\n'
            for l_1_f in environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'findings'):
                _loop_vars = {}
                pass
                yield '<tr class="sev-'
                yield escape(environment.getattr(environment.getattr(l_1_f, 'severity'), 'value'))
                yield '"><td class="mono">'
                yield escape(environment.getattr(l_1_f, 'rule'))
                yield '</td><td>'
                yield escape(environment.getattr(environment.getattr(l_1_f, 'severity'), 'value'))
                yield '</td><td>'
                yield escape((environment.getattr(l_1_f, 'epoch') or '–'))
                yield '</td><td class="mono">'
                yield escape((environment.getattr(l_1_f, 'tensor') or '–'))
                yield '</td><td>'
                yield escape(environment.getattr(l_1_f, 'message'))
                yield '</td><td>'
                yield escape((environment.getattr(l_1_f, 'hint') or ''))
                yield '</td></tr>\n'
            l_1_f = missing
            yield '</tbody>\n</table></div>\n'
        else:
            pass
            yield '<p class="ok">No training findings.</p>\n'
        if environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'checkpoints'):
            pass
            yield '<h3>Checkpoints</h3>\n<div class="scroll"><table id="training-checkpoints">\n<thead><tr><th>File</th><th>Epoch</th><th>How</th><th>'
            yield escape(environment.getattr(environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'best'), 'monitor'))
            yield '</th></tr></thead>\n<tbody>\n'
            for l_1_c in environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'checkpoints'):
                _loop_vars = {}
                pass
                yield '<tr><td class="mono">'
                yield escape(environment.getattr(l_1_c, 'path'))
                yield '</td><td>'
                yield escape((environment.getattr(l_1_c, 'epoch') or '?'))
                yield '</td><td>'
                yield escape(t_10(context.eval_ctx, environment.getattr(environment.getattr(l_1_c, 'how'), 'value'), '_', ' '))
                if environment.getattr(l_1_c, 'note'):
                    pass
                    yield ' <span class="note">'
                    yield escape(environment.getattr(l_1_c, 'note'))
                    yield '</span>'
                yield '</td><td>'
                yield escape(t_8(environment.getattr(l_1_c, 'value')))
                yield '</td></tr>\n'
            l_1_c = missing
            yield '</tbody>\n</table></div>\n'
        if environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'trends'):
            pass
            yield '<h3>Weight distributions</h3>\n<div class="scroll"><table id="training-weights">\n<thead><tr><th>Weight</th><th>Epochs</th><th>Std</th><th>Max |w|</th><th>Trend</th></tr></thead>\n<tbody>\n'
            for l_1_t in environment.getattr((undefined(name='tr') if l_0_tr is missing else l_0_tr), 'trends'):
                _loop_vars = {}
                pass
                yield '<tr'
                if (environment.getattr(l_1_t, 'trend') in ('frozen', 'blow-up', 'collapse')):
                    pass
                    yield ' class="flag"'
                yield '><td class="mono">'
                yield escape(environment.getattr(l_1_t, 'name'))
                yield '</td><td>'
                yield escape(environment.getattr(l_1_t, 'first_epoch'))
                yield '–'
                yield escape(environment.getattr(l_1_t, 'last_epoch'))
                yield '</td><td>'
                yield escape(t_8(environment.getitem(environment.getattr(l_1_t, 'std'), 0)))
                yield ' → '
                yield escape(t_8(environment.getitem(environment.getattr(l_1_t, 'std'), 1)))
                yield '</td><td>'
                yield escape(t_8(environment.getitem(environment.getattr(l_1_t, 'absmax'), 0)))
                yield ' → '
                yield escape(t_8(environment.getitem(environment.getattr(l_1_t, 'absmax'), 1)))
                yield '</td><td>'
                yield escape(environment.getattr(l_1_t, 'trend'))
                yield '</td></tr>\n'
            l_1_t = missing
            yield '</tbody>\n</table></div>\n'
        yield '</section>\n'
    yield '<section id="notes">\n<h2>Notes</h2>\n'
    if environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'notes'):
        pass
        yield '<ul id="note-list">\n'
        for l_1_n in environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'notes'):
            _loop_vars = {}
            pass
            yield '<li>'
            yield escape(l_1_n)
            yield '</li>\n'
        l_1_n = missing
        yield '</ul>\n'
    else:
        pass
        yield '<p class="muted">Nothing to note: kinspect determined everything this report shows from the file.</p>\n'
    yield '</section>\n</main>\n<footer>kinspect '
    yield escape(environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'version'))
    yield ' · read statically: nothing in the file was executed · this page makes no network requests</footer>\n<script type="application/json" id="hist-data">'
    yield escape(t_15(context.eval_ctx, (undefined(name='hist') if l_0_hist is missing else l_0_hist)))
    yield '</script>\n<script>'
    yield escape((undefined(name='js') if l_0_js is missing else l_0_js))
    yield '</script>\n</body>\n</html>'

blocks = {}
debug_info = '5=126&7=128&8=130&9=132&13=134&14=138&15=147&19=151&21=154&23=157&25=160&28=164&38=168&39=170&40=172&41=176&42=178&43=180&44=182&45=192&49=199&50=214&51=228&52=231&53=238&54=240&62=246&63=249&64=253&65=256&66=264&68=275&69=279&71=284&80=292&82=294&88=298&89=302&94=355&96=359&97=361&99=367&102=370&103=373&105=381&107=386&111=402&113=405&117=414&119=420&120=424&121=426&122=429&123=445&124=453&126=476&131=480&134=484&136=493&137=495&142=498&143=502&149=519&152=524&153=526&155=530&156=542&157=553&158=558&161=561&162=565&167=580&171=583&172=587&179=606&182=609&184=611&185=615&190=630&195=633&196=637&205=661&207=664&208=668&216=676&217=678&218=680'
from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'cost.html.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_r = resolve('r')
    l_0_c = l_0_top = l_0_top_paths = missing
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
        t_4 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_5 = environment.filters['list']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No filter named 'list' found.")
    try:
        t_6 = environment.filters['macs']
    except KeyError:
        @internalcode
        def t_6(*unused):
            raise TemplateRuntimeError("No filter named 'macs' found.")
    try:
        t_7 = environment.filters['map']
    except KeyError:
        @internalcode
        def t_7(*unused):
            raise TemplateRuntimeError("No filter named 'map' found.")
    try:
        t_8 = environment.filters['pct']
    except KeyError:
        @internalcode
        def t_8(*unused):
            raise TemplateRuntimeError("No filter named 'pct' found.")
    try:
        t_9 = environment.filters['size']
    except KeyError:
        @internalcode
        def t_9(*unused):
            raise TemplateRuntimeError("No filter named 'size' found.")
    try:
        t_10 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_10(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    pass
    l_0_c = environment.getattr((undefined(name='r') if l_0_r is missing else l_0_r), 'cost')
    context.vars['c'] = l_0_c
    context.exported_vars.add('c')
    l_0_top = context.call(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'most_expensive'), 5)
    context.vars['top'] = l_0_top
    context.exported_vars.add('top')
    l_0_top_paths = t_5(context.eval_ctx, t_7(context, (undefined(name='top') if l_0_top is missing else l_0_top), attribute='path'))
    context.vars['top_paths'] = l_0_top_paths
    context.exported_vars.add('top_paths')
    yield '<section id="cost">\n<h2>Compute and memory cost <span class="muted">(per sample)</span></h2>\n<div class="cards">\n<dl class="card">\n<dt>Total MACs</dt><dd>'
    yield escape(t_2(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_macs')))
    yield ' <span class="muted">('
    yield escape(t_6(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_macs')))
    if environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'unknown'):
        pass
        yield ', without '
        yield escape(t_4(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'unknown')))
        yield ' layers of unknown cost'
    yield ')</span></dd>\n<dt>FLOPs</dt><dd>'
    yield escape(t_2(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_flops')))
    yield ' <span class="muted">(2 × MACs)</span></dd>\n<dt>Element-wise ops</dt><dd>'
    yield escape(t_2(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_elementwise')))
    yield ' <span class="muted">(not in the MACs)</span></dd>\n</dl>\n<dl class="card">\n<dt>Parameter memory</dt><dd>'
    yield escape(t_9(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'parameters')))
    yield '</dd>\n<dt>Activations</dt><dd>'
    if t_10(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'stored_activations')):
        pass
        yield 'unknown'
    else:
        pass
        yield escape(t_9(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'stored_activations')))
        yield ' <span class="muted">(inputs and every layer output)</span>'
    yield '</dd>\n<dt>Peak inference memory</dt><dd>'
    if t_10(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'peak_inference')):
        pass
        yield 'unknown'
    else:
        pass
        yield escape(t_9(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'peak_inference')))
        yield ' <span class="muted">(parameters + '
        yield escape(t_9(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'peak_activations')))
        yield ' of activations alive at once)</span>'
    yield '</dd>\n<dt>Training memory</dt><dd>'
    if t_10(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'training')):
        pass
        yield 'unknown'
    else:
        pass
        yield escape(t_9(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'training')))
        yield ' <span class="muted">(parameters, gradients, optimizer slots '
        yield escape(t_9(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'optimizer_slots')))
        yield ', activations '
        yield escape(t_9(environment.getattr(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'memory'), 'stored_activations')))
        yield ')</span>'
    yield '</dd>\n</dl>\n</div>\n'
    if (undefined(name='top') if l_0_top is missing else l_0_top):
        pass
        yield '<p>Most expensive: '
        l_1_loop = missing
        for l_1_x, l_1_loop in LoopContext((undefined(name='top') if l_0_top is missing else l_0_top), undefined):
            _loop_vars = {}
            pass
            yield '<a href="#C'
            yield escape(environment.getattr(l_1_loop, 'index0'))
            yield '" class="mono">'
            yield escape(environment.getattr(l_1_x, 'path'))
            yield '</a> <span class="muted">'
            yield escape(t_6(environment.getattr(l_1_x, 'macs')))
            yield ' ('
            yield escape(t_3('%.1f', ((100 * environment.getattr(l_1_x, 'macs')) / environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_macs'))))
            yield '%)</span>'
            if (not environment.getattr(l_1_loop, 'last')):
                pass
                yield ' · '
        l_1_loop = l_1_x = missing
        yield '</p>\n'
    yield '<div class="scroll">\n<table id="cost-table" class="sortable data">\n<thead><tr><th data-type="text">Layer</th><th data-type="text">Type</th><th data-type="num">MACs</th><th data-type="num">Share</th><th data-type="num">Element-wise</th><th data-type="num">Activation bytes</th></tr></thead>\n<tbody>\n'
    def t_11(fiter):
        for l_1_x in fiter:
            if (not environment.getattr(l_1_x, 'layers')):
                yield l_1_x
    for l_1_x in t_11(context.call(environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'walk'))):
        _loop_vars = {}
        pass
        yield '<tr'
        if (environment.getattr(l_1_x, 'path') in (undefined(name='top_paths') if l_0_top_paths is missing else l_0_top_paths)):
            pass
            yield ' id="C'
            yield escape(context.call(environment.getattr((undefined(name='top_paths') if l_0_top_paths is missing else l_0_top_paths), 'index'), environment.getattr(l_1_x, 'path'), _loop_vars=_loop_vars))
            yield '" class="flag"'
        yield '><td>'
        yield escape(environment.getattr(l_1_x, 'path'))
        if (environment.getattr(l_1_x, 'path') in (undefined(name='top_paths') if l_0_top_paths is missing else l_0_top_paths)):
            pass
            yield ' <span class="badge" title="among the most expensive layers">#'
            yield escape((context.call(environment.getattr((undefined(name='top_paths') if l_0_top_paths is missing else l_0_top_paths), 'index'), environment.getattr(l_1_x, 'path'), _loop_vars=_loop_vars) + 1))
            yield '</span>'
        if environment.getattr(l_1_x, 'note'):
            pass
            yield '<div class="note">'
            yield escape(environment.getattr(l_1_x, 'note'))
            yield '</div>'
        yield '</td><td>'
        yield escape(t_1(environment.getattr(environment.getattr(l_1_x, 'layer'), 'class_name')))
        yield '</td><td>'
        yield escape(t_2(environment.getattr(l_1_x, 'macs')))
        yield '</td><td>'
        if ((not t_10(environment.getattr(l_1_x, 'macs'))) and environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_macs')):
            pass
            yield '<span class="barbox"><span class="bar" style="width:'
            yield escape(t_3('%.1f', ((100 * environment.getattr(l_1_x, 'macs')) / environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_macs'))))
            yield '%"></span></span>'
            yield escape(t_8((environment.getattr(l_1_x, 'macs') / environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'total_macs'))))
        else:
            pass
            yield '–'
        yield '</td><td>'
        yield escape(t_2(environment.getattr(l_1_x, 'elementwise')))
        yield '</td><td>'
        yield escape(t_2(environment.getattr(l_1_x, 'activation_bytes')))
        yield '</td></tr>\n'
    l_1_x = missing
    yield '</tbody>\n</table>\n</div>\n'
    for l_1_n in environment.getattr((undefined(name='c') if l_0_c is missing else l_0_c), 'notes'):
        _loop_vars = {}
        pass
        yield '<p class="note">'
        yield escape(l_1_n)
        yield '</p>'
    l_1_n = missing
    yield '</section>'

blocks = {}
debug_info = '2=73&3=76&4=79&9=83&10=92&11=94&14=96&15=98&16=106&17=116&20=128&21=132&27=150&28=158&33=196'
from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'compare.html.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_compare = resolve('compare')
    l_0_arch = resolve('arch')
    l_0_d = missing
    try:
        t_1 = environment.filters['cls']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'cls' found.")
    try:
        t_2 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_3 = environment.filters['num']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'num' found.")
    try:
        t_4 = environment.filters['pct']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'pct' found.")
    try:
        t_5 = environment.tests['none']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No test named 'none' found.")
    pass
    l_0_d = (undefined(name='compare') if l_0_compare is missing else l_0_compare)
    context.vars['d'] = l_0_d
    context.exported_vars.add('d')
    yield '<section id="compare">\n<h2>Compared with <span class="mono">'
    yield escape(environment.getattr(environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'a'), 'path'))
    yield '</span> <span class="muted">('
    yield escape(environment.getattr(environment.getattr(environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'a'), 'format'), 'value'))
    if environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'identical'):
        pass
        yield ' · the same bytes'
    yield ')</span></h2>\n'
    if (not t_5(environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'architecture'))):
        pass
        l_0_arch = environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'architecture')
        context.vars['arch'] = l_0_arch
        context.exported_vars.add('arch')
        if environment.getattr((undefined(name='arch') if l_0_arch is missing else l_0_arch), 'empty'):
            pass
            yield '<p class="ok">Architecture: no change.</p>\n'
        else:
            pass
            yield '<h3>Architecture</h3>\n<ul class="mono">\n'
            for l_1_c in environment.getattr((undefined(name='arch') if l_0_arch is missing else l_0_arch), 'model'):
                _loop_vars = {}
                pass
                yield '<li>~ model: '
                yield escape(environment.getattr(l_1_c, 'field'))
                yield ' '
                yield escape(environment.getattr(l_1_c, 'a'))
                yield ' → '
                yield escape(environment.getattr(l_1_c, 'b'))
                yield '</li>\n'
            l_1_c = missing
            for l_1_c in environment.getattr((undefined(name='arch') if l_0_arch is missing else l_0_arch), 'added'):
                _loop_vars = {}
                pass
                yield '<li>+ '
                yield escape(environment.getattr(l_1_c, 'name'))
                yield ' ('
                yield escape(t_1(environment.getattr(l_1_c, 'class_name')))
                yield ')</li>\n'
            l_1_c = missing
            for l_1_c in environment.getattr((undefined(name='arch') if l_0_arch is missing else l_0_arch), 'removed'):
                _loop_vars = {}
                pass
                yield '<li>- '
                yield escape(environment.getattr(l_1_c, 'name'))
                yield ' ('
                yield escape(t_1(environment.getattr(l_1_c, 'class_name')))
                yield ')</li>\n'
            l_1_c = missing
            l_1_loop = missing
            for l_1_c, l_1_loop in LoopContext(environment.getattr((undefined(name='arch') if l_0_arch is missing else l_0_arch), 'changed'), undefined):
                _loop_vars = {}
                pass
                yield '<li>~ '
                if environment.getattr(l_1_c, 'renamed_from'):
                    pass
                    yield escape(environment.getattr(l_1_c, 'renamed_from'))
                    yield ' → '
                yield escape(environment.getattr(l_1_c, 'name'))
                yield ' ('
                yield escape(t_1(environment.getattr(l_1_c, 'class_name')))
                yield ')'
                l_2_loop = missing
                for l_2_x, l_2_loop in LoopContext(environment.getattr(l_1_c, 'changes'), undefined):
                    _loop_vars = {}
                    pass
                    yield escape((': ' if environment.getattr(l_2_loop, 'first') else '; '))
                    yield escape(environment.getattr(l_2_x, 'field'))
                    yield ' '
                    yield escape(environment.getattr(l_2_x, 'a'))
                    yield ' → '
                    yield escape(environment.getattr(l_2_x, 'b'))
                l_2_loop = l_2_x = missing
                yield '</li>\n'
            l_1_loop = l_1_c = missing
            yield '</ul>\n'
    else:
        pass
        yield '<p class="muted">A side holds weights only: the tensors are compared alone.</p>\n'
    if (not environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'weights_compared')):
        pass
        yield '<p class="muted">Architecture only: the weights were not compared (--no-weights).</p>\n'
    else:
        pass
        yield '<h3>Weights <span class="muted">('
        yield escape(t_2(environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'tensors')))
        yield ' tensors'
        def t_6(fiter):
            for (l_1_s, l_1_n) in fiter:
                if l_1_n:
                    yield (l_1_s, l_1_n)
        l_1_loop = missing
        for (l_1_s, l_1_n), l_1_loop in LoopContext(t_6(context.call(environment.getattr(context.call(environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'counts')), 'items'))), undefined):
            _loop_vars = {}
            pass
            yield escape((': ' if environment.getattr(l_1_loop, 'first') else ', '))
            yield escape(l_1_n)
            yield ' '
            yield escape(l_1_s)
        l_1_loop = l_1_s = l_1_n = missing
        yield ')</span></h3>\n<div class="scroll">\n<table class="sortable">\n<thead><tr><th data-type="text">Layer</th><th data-type="text">Status</th><th data-type="num">Changed tensors</th><th data-type="num">Max |Δ|</th><th data-type="num">Relative L2</th><th data-type="num">Cosine</th><th data-type="num">Elements changed</th><th data-type="text">Frozen</th></tr></thead>\n<tbody>\n'
        for l_1_row in environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'layers'):
            _loop_vars = {}
            pass
            yield '<tr'
            if (environment.getattr(l_1_row, 'status') != 'unchanged'):
                pass
                yield ' class="'
                yield escape(('bad' if (environment.getattr(l_1_row, 'frozen_a') or environment.getattr(l_1_row, 'frozen_b')) else 'flag'))
                yield '"'
            yield '><td>'
            if environment.getattr(l_1_row, 'renamed_from'):
                pass
                yield escape(environment.getattr(l_1_row, 'renamed_from'))
                yield ' → '
            yield escape(environment.getattr(l_1_row, 'name'))
            yield '</td><td>'
            yield escape(environment.getattr(l_1_row, 'status'))
            yield '</td><td>'
            yield escape(environment.getattr(l_1_row, 'changed_tensors'))
            yield '/'
            yield escape(environment.getattr(l_1_row, 'tensors'))
            yield '</td><td>'
            yield escape(t_3(environment.getattr(l_1_row, 'max_abs')))
            yield '</td><td>'
            yield escape(t_3(environment.getattr(l_1_row, 'rel_l2')))
            yield '</td><td>'
            yield escape(t_3(environment.getattr(l_1_row, 'cosine')))
            yield '</td><td>'
            yield escape(('–' if t_5(environment.getattr(l_1_row, 'changed_fraction')) else t_4(environment.getattr(l_1_row, 'changed_fraction'))))
            yield '</td><td>'
            yield escape(('Y' if (environment.getattr(l_1_row, 'frozen_a') or environment.getattr(l_1_row, 'frozen_b')) else ('–' if (t_5(environment.getattr(l_1_row, 'frozen_a')) and t_5(environment.getattr(l_1_row, 'frozen_b'))) else 'N')))
            yield '</td></tr>\n'
        l_1_row = missing
        yield '</tbody>\n</table>\n</div>\n'
    if environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'findings'):
        pass
        yield '<ul>\n'
        for l_1_f in environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'findings'):
            _loop_vars = {}
            pass
            yield '<li class="sev-'
            yield escape(environment.getattr(environment.getattr(l_1_f, 'severity'), 'value'))
            yield '"><code>'
            yield escape(environment.getattr(l_1_f, 'rule'))
            yield '</code> '
            yield escape(environment.getattr(environment.getattr(l_1_f, 'severity'), 'value'))
            if environment.getattr(l_1_f, 'layer'):
                pass
                yield ' <span class="mono">'
                yield escape(environment.getattr(l_1_f, 'layer'))
                yield '</span>'
            yield ': '
            yield escape(environment.getattr(l_1_f, 'message'))
            if environment.getattr(l_1_f, 'hint'):
                pass
                yield ' <span class="muted">'
                yield escape(environment.getattr(l_1_f, 'hint'))
                yield '</span>'
            yield '</li>\n'
        l_1_f = missing
        yield '</ul>\n'
    for l_1_n in environment.getattr((undefined(name='d') if l_0_d is missing else l_0_d), 'notes'):
        _loop_vars = {}
        pass
        yield '<p class="note">'
        yield escape(l_1_n)
        yield '</p>\n'
    l_1_n = missing
    yield '</section>'

blocks = {}
debug_info = '2=44&4=48&5=55&6=57&7=60&11=66&13=77&15=86&17=96&23=125&25=131&30=147&31=151&37=181&39=184&43=208'
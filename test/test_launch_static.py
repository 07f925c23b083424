# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Static checks of the launch files and parameter files (no launch tools needed).

The launch files are parsed, not run: every name they import must be a public name of
launch / launch_ros (the table below was taken from ros2/launch and ros2/launch_ros sources),
every executable and file they reference must exist, and every key of config/*.yaml must be a
parameter the node declares, with a value the node accepts.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
import sys
import xml.etree.ElementTree as ET

from fxseg_ros.ros import params as P
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCH_DIR = ROOT / 'launch'
CONFIG_DIR = ROOT / 'config'
PLATFORMS = ('cpu', 'tx2', 'px2')
LAUNCH_FILES = sorted(LAUNCH_DIR.glob('*.launch.py'))

#: Public names of the launch packages (ros2/launch: launch/__init__.py, launch/actions,
#: launch/conditions, launch/substitutions, launch/launch_description_sources; ros2/launch_ros:
#: launch_ros/actions, launch_ros/substitutions). Only those present since Humble.
LAUNCH_API = {
    'launch': {'LaunchDescription', 'LaunchContext', 'Action', 'Substitution', 'Condition'},
    'launch.actions': {
        'DeclareLaunchArgument', 'ExecuteProcess', 'GroupAction', 'IncludeLaunchDescription',
        'LogInfo', 'OpaqueFunction', 'RegisterEventHandler', 'SetEnvironmentVariable',
        'SetLaunchConfiguration', 'Shutdown', 'TimerAction', 'UnsetEnvironmentVariable',
        'AppendEnvironmentVariable', 'EmitEvent', 'PushLaunchConfigurations',
        'PopLaunchConfigurations'},
    'launch.conditions': {'IfCondition', 'UnlessCondition', 'LaunchConfigurationEquals',
                          'LaunchConfigurationNotEquals'},
    'launch.substitutions': {
        'LaunchConfiguration', 'PathJoinSubstitution', 'TextSubstitution', 'EnvironmentVariable',
        'PythonExpression', 'FindExecutable', 'Command', 'AndSubstitution', 'NotSubstitution',
        'OrSubstitution', 'ThisLaunchFileDir'},
    'launch.launch_description_sources': {'PythonLaunchDescriptionSource',
                                          'AnyLaunchDescriptionSource'},
    'launch_ros.actions': {'Node', 'ComposableNodeContainer', 'LoadComposableNodes',
                           'PushRosNamespace', 'SetParameter', 'SetRemap', 'LifecycleNode'},
    'launch_ros.substitutions': {'FindPackageShare', 'FindPackagePrefix', 'ExecutableInPackage'},
}
#: Keyword arguments of launch_ros.actions.Node and launch.actions.ExecuteProcess they use.
NODE_KWARGS = {'executable', 'package', 'name', 'namespace', 'exec_name', 'parameters',
               'remappings', 'ros_arguments', 'arguments', 'output', 'emulate_tty',
               'additional_env', 'respawn', 'respawn_delay', 'condition', 'on_exit', 'prefix',
               'sigterm_timeout', 'sigkill_timeout', 'cwd', 'env'}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _setup_console_scripts():
    """console_scripts of setup.py, read from its AST."""
    for node in ast.walk(_tree(ROOT / 'setup.py')):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == 'console_scripts':
                    return {s.value.split('=')[0].strip(): s.value.split('=')[1].strip()
                            for s in value.elts}
    raise AssertionError('setup.py has no console_scripts')


def _calls(tree: ast.Module, name: str):
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and getattr(n.func, 'id', getattr(n.func, 'attr', None)) == name]


def _str_constants(tree: ast.Module):
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)}


def test_every_platform_has_a_launch_file_and_config():
    names = {p.name for p in LAUNCH_FILES}
    assert {'segmentation.launch.py', 'cpu.launch.py', 'tx2.launch.py', 'px2.launch.py'} <= names
    for platform in PLATFORMS:
        assert (CONFIG_DIR / (platform + '.yaml')).is_file()


@pytest.mark.parametrize('path', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_uses_only_real_launch_api(path):
    tree = _tree(path)
    assert any(isinstance(n, ast.FunctionDef) and n.name == 'generate_launch_description'
               for n in tree.body), 'no generate_launch_description()'
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module.split('.')[0] in ('launch',
                                                                              'launch_ros'):
            assert node.module in LAUNCH_API, '%s: unknown module %s' % (path.name, node.module)
            for alias in node.names:
                assert alias.name in LAUNCH_API[node.module], \
                    '%s: %s is not in %s' % (path.name, alias.name, node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name.split('.')[0] not in ('launch', 'launch_ros') \
                    or alias.name in LAUNCH_API, alias.name
    for call in _calls(tree, 'Node'):
        kwargs = {kw.arg for kw in call.keywords}
        assert kwargs <= NODE_KWARGS, kwargs - NODE_KWARGS
        assert {'package', 'executable'} <= kwargs


def test_node_executable_and_package_exist():
    scripts = _setup_console_scripts()
    package = ET.parse(ROOT / 'package.xml').getroot().findtext('name')
    tree = _tree(LAUNCH_DIR / 'segmentation.launch.py')
    calls = _calls(tree, 'Node')
    assert len(calls) == 1
    kwargs = {kw.arg: kw.value for kw in calls[0].keywords}
    # the executable: lib/fxseg_ros/segmentation_node when colcon installed the package, else
    # this Python running the same entry point module
    constants = _str_constants(tree)
    assert {'segmentation_node', '-m', 'fxseg_ros.ros.node'} <= constants
    assert scripts['segmentation_node'] == 'fxseg_ros.ros.node:main'
    module, func = scripts['segmentation_node'].split(':')
    assert importlib.util.find_spec(module) is not None
    assert package == 'fxseg_ros'
    assert any(isinstance(n, ast.Assign) and n.targets[0].id == 'PACKAGE'
               and n.value.value == package for n in tree.body if isinstance(n, ast.Assign))
    # the node name the launch file gives matches what the node calls itself
    assert kwargs['name'].value == 'segmentation_node'
    assert kwargs['exec_name'].value == 'segmentation_node'
    # ros2 run / launch find executables in lib/<package>: setup.cfg must say so
    assert 'script_dir=$base/lib/fxseg_ros' in (ROOT / 'setup.cfg').read_text()


def test_referenced_files_exist_and_are_installed():
    setup_text = (ROOT / 'setup.py').read_text()
    assert "glob('launch/*.launch.py')" in setup_text and "glob('config/*.yaml')" in setup_text
    assert "glob('config/*.xml')" in setup_text  # the Fast DDS profile of transport:=shm
    assert (CONFIG_DIR / 'fastdds_large_images.xml').is_file()
    seg = _tree(LAUNCH_DIR / 'segmentation.launch.py')
    assert {'config', 'segmentation_node', 'fxseg_ros', 'transport'} <= _str_constants(seg)
    namespace = {}
    for node in seg.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == 'PLATFORMS':
            namespace['PLATFORMS'] = ast.literal_eval(node.value)
    assert tuple(namespace['PLATFORMS']) == PLATFORMS
    # the platform launch files build segmentation.launch.py's description with their platform
    for platform in PLATFORMS:
        tree = _tree(LAUNCH_DIR / (platform + '.launch.py'))
        assert {'segmentation.launch.py', platform} <= _str_constants(tree)
        assert _calls(tree, 'platform_launch_description')
    # engines are names looked up in engine_dir (never the install tree)
    for platform, engine in (('tx2', 'tx2_fp16.engine'), ('px2', 'px2_int8.engine')):
        values = yaml.safe_load((CONFIG_DIR / (platform + '.yaml')).read_text())
        values = values['/**']['ros__parameters']
        assert values['engine'] == engine and values['engine_dir'] == ''
        assert engine.endswith(P.ENGINE_SUFFIXES) and '/' not in engine


def test_launch_arguments_are_declared_and_used():
    tree = _tree(LAUNCH_DIR / 'segmentation.launch.py')
    declared = {c.args[0].value for c in _calls(tree, 'DeclareLaunchArgument')}
    used = {c.args[0].value for c in _calls(tree, 'LaunchConfiguration') + _calls(tree, 'arg')
            if isinstance(c.args[0], ast.Constant)}
    assert {'platform', 'camera_topics', 'model', 'engine', 'engine_dir', 'namespace',
            'log_level', 'autostart', 'transport', 'params_file', 'use_sim_time'} <= declared
    assert used == declared, 'declared but unused: %s, used but undeclared: %s' % (
        declared - used, used - declared)


@pytest.mark.parametrize('platform', PLATFORMS)
def test_config_keys_are_declared_parameters_with_valid_values(platform):
    doc = yaml.safe_load((CONFIG_DIR / (platform + '.yaml')).read_text())
    assert list(doc) == ['/**'], 'one wildcard section, whatever the node name or namespace'
    values = doc['/**']['ros__parameters']
    unknown = set(values) - set(P.BY_NAME)
    assert not unknown, 'not parameters of the node: %s' % unknown
    cfg = P.validate(values)  # types, choices, ranges, topics
    expected = {'cpu': ('onnxruntime', 'fp32'), 'tx2': ('tensorrt', 'fp16'),
                'px2': ('tensorrt', 'int8')}[platform]
    assert (cfg['backend'], cfg['precision']) == expected
    for name, value in values.items():
        spec = P.BY_NAME[name]
        if spec.type == P.DOUBLE:
            # rcl types 40 as an integer and the node would refuse it for a double parameter
            assert isinstance(value, float), '%s: write %r as a float' % (name, value)


def _load_launch_file(name):
    spec = importlib.util.spec_from_file_location(name.replace('.', '_'), LAUNCH_DIR / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.launch_tools
def test_launch_file_helpers_when_launch_is_installed():
    # launch.actions, not launch: the tree's launch/ folder imports as a namespace package
    pytest.importorskip('launch.actions', reason='the ros2 launch tools are not installed here')
    pytest.importorskip('launch_ros.actions', reason='launch_ros is not installed here')
    module = _load_launch_file('segmentation.launch.py')
    both = ['/a/image_raw', '/b/image_raw']
    assert module.camera_topics('[/a/image_raw, /b/image_raw]') == both
    assert module.camera_topics('/a/image_raw, /b/image_raw') == both
    for bad in ('[/a/image_raw', '[1, 2]', '[{a: b}]'):
        with pytest.raises(module.LaunchArgumentError) as info:
            module.camera_topics(bad)
        assert str(info.value).startswith('launch argument camera_topics: ')
    description = module.generate_launch_description()
    names = {arg.name for arg in description.get_launch_arguments()}
    assert {'platform', 'camera_topics', 'model', 'engine', 'namespace', 'log_level',
            'autostart', 'transport'} <= names
    for platform in ('cpu', 'tx2', 'px2'):
        fixed = _load_launch_file(platform + '.launch.py').generate_launch_description()
        fixed_names = {arg.name for arg in fixed.get_launch_arguments()}
        assert fixed_names == names - {'platform'}  # --show-args does not offer platform


def test_package_xml_declares_the_ros_packages_the_node_imports():
    deps = {e.text for e in ET.parse(ROOT / 'package.xml').getroot()
            if e.tag in ('depend', 'exec_depend')}
    # Python libraries (rosdep keys python3-*) and the standard library are not ROS packages
    not_ros = {'fxseg_ros', 'numpy', 'cv2', 'yaml', 'onnx', 'onnxruntime', 'tensorrt', 'pycuda',
               'ament_index_python', 'tqdm', 'matplotlib', 'rosbags'}
    not_ros |= set(getattr(sys, 'stdlib_module_names', ()))  # Python >= 3.10
    not_ros |= {'__future__', 'argparse', 'array', 'collections', 'dataclasses', 'json',
                'logging', 'math', 'os', 'pathlib', 'shutil', 'signal', 'subprocess', 'sys',
                'tempfile', 'threading', 'time', 'traceback', 'typing'}
    imported = set()
    for path in (ROOT / 'fxseg_ros' / 'ros').glob('*.py'):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split('.')[0])
            elif isinstance(node, ast.Import):
                imported.update(a.name.split('.')[0] for a in node.names)
    ros_packages = imported - not_ros
    assert {'rclpy', 'sensor_msgs', 'diagnostic_msgs'} <= ros_packages
    assert ros_packages <= deps, 'missing exec_depend: %s' % (ros_packages - deps)
    assert {'launch', 'launch_ros'} <= deps


@pytest.mark.parametrize('platform', ['tx2', 'px2'])
def test_engine_files_named_alike_in_config_launch_files_and_docs(platform):
    """The engine (and calibration cache) a platform's config names is the one the docs build."""
    values = yaml.safe_load((CONFIG_DIR / (platform + '.yaml')).read_text())
    config = values['/**']['ros__parameters']
    names = [config['engine']] + ([config['calibration_cache']]
                                  if config.get('calibration_cache') else [])
    assert config['engine_dir'] == ''  # the default folder the docs use
    launch_doc = ast.get_docstring(ast.parse(
        (LAUNCH_DIR / (platform + '.launch.py')).read_text()))
    engines_readme = (ROOT / 'engines' / 'README.md').read_text()
    readme = (ROOT / 'README.md').read_text()
    for name in names:
        assert name in launch_doc, (name, platform + '.launch.py')
        # built where the node looks: `fxseg build ... --out $ENGINES/<name>` or the cache there
        assert '$ENGINES/%s' % name in engines_readme, name
        assert name in readme, name
    # the folder the docs name is the node's default engine_dir (no ROS_HOME set)
    assert 'ENGINES=~/.ros/fxseg_ros/engines' in engines_readme
    assert P.default_engine_dir({}) == str(Path('~/.ros/fxseg_ros/engines').expanduser())

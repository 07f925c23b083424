# Copyright 2026 The fxseg_ros Authors
# SPDX-License-Identifier: Apache-2.0
"""
Fast DDS transports for 2.7 MB camera frames: which setups talk to which, and what to check.

Plain Python (no rclpy): the launch files, the node and the tests share it.

Three setups, chosen per process by its environment (a participant picks its transports when it
starts):

- `default`: Fast DDS's builtin transports (UDPv4 + shared memory with small segments). Reaches
  and is reached by every ROS 2 process that was started normally (drivers, `ros2 topic echo`,
  RViz, rosbag2). Frames above the shared-memory segment travel as UDP fragments.
- `shm`: the XML profile config/fastdds_large_images.xml (UDPv4 + shared memory with 32 MiB
  segments). Talks to `default` processes in both directions; frames that a `shm` process
  publishes go through shared memory in one piece, so the camera driver is the side that gains
  (and the node, for its masks and overlays). The best setup measured on both distros.
- `large_data`: FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA_TRANSPORTS (LARGE_DATA: UDP for discovery
  only, TCP and shared memory for data; with a socket size that makes the shared-memory segment
  hold a frame). Only talks to processes that use LARGE_DATA too: with Fast DDS 3.2 and 2.14 a
  LARGE_DATA participant and a default one exchange nothing, in either direction.

Medians below: 1280x720 bgr8 frames, reliable, 10 Hz, 100 frames per pair, between two bare
rclpy processes, measured side by side in one run with
`python -m fxseg_ros.ros.transport_bench --frames 100 --rate 10` (`--localhost` for the last
figure) on the 2-core x86 development machine while other work ran (load 4-7): ROS 2 Kilted
wheels (Fast DDS 3.2) and Jazzy wheels (Fast DDS 2.14).
"""


import os
from typing import Dict, Mapping, Optional

TRANSPORTS = ('default', 'shm', 'large_data')
#: The setup when none is chosen (launch argument `transport`, the node benchmark): the node
#: stays reachable by every ROS 2 process started normally.
DEFAULT_TRANSPORT = 'default'
#: The XML profile of the `shm` setup, in the package's config folder.
PROFILE_FILE = 'fastdds_large_images.xml'
#: Fast DDS 3.x reads FASTDDS_DEFAULT_PROFILES_FILE, 2.x (Humble 2.6, Jazzy 2.14)
#: FASTRTPS_DEFAULT_PROFILES_FILE: the `shm` setup sets both.
PROFILE_VARIABLES = ('FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE')
#: Every variable a setup sets; a process put on a setup has the others removed.
TRANSPORT_VARIABLES = ('FASTDDS_BUILTIN_TRANSPORTS',) + PROFILE_VARIABLES

#: Socket buffer size given to Fast DDS's LARGE_DATA builtin transports, in KiB. Fast DDS sizes
#: the LARGE_DATA shared-memory segment from it (2 x the socket buffer size: eProsima/Fast-DDS
#: v2.14.5 and v3.2.3 src/cpp/rtps/attributes/RTPSParticipantAttributes.cpp
#: `create_shm_transport`). Without it Fast DDS 2.14 (Jazzy) keeps its 512 KiB default segment
#: (v2.14.5 src/cpp/rtps/transport/shared_mem/SharedMemTransport.cpp
#: `shm_default_segment_size`), too small for a 1280x720 bgr8 frame (2.7 MB), which then travels
#: over TCP on the loopback; Fast DDS 3.2 (Kilted) picks 8500 KiB itself for LARGE_DATA (v3.2.3,
#: RTPSParticipantAttributes.cpp). 4250 KiB gives both the 8500 KiB segment. The options after
#: `?` are parsed from Fast DDS 2.14 on (v2.14.0 src/cpp/rtps/participant/RTPSParticipantImpl.cpp
#: `get_builtin_transports_from_env_var`); Fast DDS 2.6 (Humble) takes the bare names only and
#: logs "Wrong value ... Leaving as DEFAULT" for this value (v2.6.10, same file): there the
#: process stays on the default transports (use the `shm` setup on Humble).
LARGE_DATA_SOCKETS_SIZE_KIB = 4250
#: FASTDDS_BUILTIN_TRANSPORTS of the `large_data` setup, for the node and its peers alike.
LARGE_DATA_TRANSPORTS = 'LARGE_DATA?sockets_size=%dKiB' % LARGE_DATA_SOCKETS_SIZE_KIB

#: Median transport time per 1280x720 bgr8 frame (ms) by (publisher, subscriber) setup, Kilted
#: (Fast DDS 3.2); None: the two exchange nothing. Measured with `python -m
#: fxseg_ros.ros.transport_bench --frames 60 --rate 10` on a shared 2-core x86 machine (load
#: 1.7-4.7), Kilted and Jazzy one after the other: the README's table.
TRANSPORT_MEDIAN_MS = {
    ('default', 'default'): 43.6,
    ('default', 'shm'): 44.0,
    ('shm', 'default'): 11.0,
    ('shm', 'shm'): 11.3,
    ('large_data', 'large_data'): 12.5,
    ('default', 'large_data'): None,
    ('large_data', 'default'): None,
    ('shm', 'large_data'): None,
    ('large_data', 'shm'): None,
}
#: The same on Jazzy (Fast DDS 2.14), same run. LARGE_DATA needs the socket size there (bare
#: LARGE_DATA: 25.3 ms in that run, its 512 KiB segment cannot hold a frame).
TRANSPORT_MEDIAN_MS_JAZZY = {
    ('default', 'default'): 26.7,
    ('default', 'shm'): 26.3,
    ('shm', 'default'): 17.4,
    ('shm', 'shm'): 13.5,
    ('large_data', 'large_data'): 13.3,
    ('default', 'large_data'): None,
    ('large_data', 'default'): None,
    ('shm', 'large_data'): None,
    ('large_data', 'shm'): None,
}
#: LARGE_DATA on both sides with ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (Kilted):
#: rmw_fastrtps replaces the builtin transports by UDP on the loopback.
LOCALHOST_LARGE_DATA_MEDIAN_MS = 40.0
#: The tables above by the Fast DDS version (major, minor) they were measured with; messages
#: quote figures only for the Fast DDS that runs (fxseg_ros.ros.compat.fastdds_version).
TRANSPORT_MEDIANS_BY_FASTDDS = {(3, 2): TRANSPORT_MEDIAN_MS, (2, 14): TRANSPORT_MEDIAN_MS_JAZZY}
#: The Fast DDS the localhost figure was measured with.
LOCALHOST_MEASURED_FASTDDS = (3, 2)
#: How to measure the figures on another Fast DDS.
BENCH_COMMAND = 'python -m fxseg_ros.ros.transport_bench --frames 100 --rate 10'


def transport_medians(fastdds_version) -> Optional[Dict]:
    """Return the medians measured with this Fast DDS (major, minor), None where none were."""
    if not fastdds_version:
        return None
    return TRANSPORT_MEDIANS_BY_FASTDDS.get(tuple(fastdds_version[:2]))


def profile_path() -> str:
    """
    Return the `shm` setup's XML profile: config/ of the source tree, else of the installation.

    '' where neither exists (transport_environment('shm', '') refuses it then).
    """
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.join(here, '..', '..', 'config', PROFILE_FILE)
    if os.path.isfile(source):
        return os.path.abspath(source)
    try:
        from ament_index_python.packages import get_package_share_directory

        installed = os.path.join(get_package_share_directory('fxseg_ros'), 'config',
                                 PROFILE_FILE)
    except (ImportError, LookupError, ValueError):
        return ''
    return installed if os.path.isfile(installed) else ''


def transport_environment(mode: str, profile_path: str = '') -> Dict[str, str]:
    """
    Environment variables that put a process on `mode` (one of TRANSPORTS).

    profile_path: the XML profile for `shm` (config/fastdds_large_images.xml of the package).
    """
    if mode == 'default':
        return {}
    if mode == 'shm':
        if not profile_path:
            raise ValueError('the shm transport needs the path of %s' % PROFILE_FILE)
        return {name: profile_path for name in PROFILE_VARIABLES}
    if mode == 'large_data':
        return {'FASTDDS_BUILTIN_TRANSPORTS': LARGE_DATA_TRANSPORTS}
    raise ValueError('transport must be one of %s, got %r' % (', '.join(TRANSPORTS), mode))


def current_transport(environ: Optional[Mapping[str, str]] = None) -> str:
    """Return this process's environment's setup: 'large_data', 'shm', 'profile' or 'default'."""
    env = os.environ if environ is None else environ
    if env.get('FASTDDS_BUILTIN_TRANSPORTS', '').upper().startswith('LARGE_DATA'):
        return 'large_data'
    profile = next((env[name] for name in PROFILE_VARIABLES if env.get(name)), '')
    if profile:
        return 'shm' if os.path.basename(profile) == PROFILE_FILE else 'profile'
    return 'default'


def describe_transport(environ: Optional[Mapping[str, str]] = None) -> str:
    """Return this process's Fast DDS setup in words, for log lines."""
    env = os.environ if environ is None else environ
    mode = current_transport(env)
    if mode == 'large_data':
        return 'FASTDDS_BUILTIN_TRANSPORTS=%s' % env['FASTDDS_BUILTIN_TRANSPORTS']
    if mode in ('shm', 'profile'):
        name = next(n for n in PROFILE_VARIABLES if env.get(n))
        return '%s=%s' % (name, env[name])
    return 'the default Fast DDS transports'


def _localhost(env: Mapping[str, str]) -> bool:
    return (env.get('ROS_AUTOMATIC_DISCOVERY_RANGE', '').upper() == 'LOCALHOST'
            or env.get('ROS_LOCALHOST_ONLY', '') == '1')


def _fastdds_name(version) -> str:
    return 'Fast DDS %d.%d' % tuple(version[:2])


def transport_warning(environ: Optional[Mapping[str, str]] = None,
                      fastdds_version=None) -> Optional[str]:
    """
    Return a warning when the environment defeats Fast DDS's LARGE_DATA transports, else None.

    With ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST (or ROS_LOCALHOST_ONLY=1) rmw_fastrtps replaces
    the builtin transports by UDP on the loopback, so FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA (bare
    or with options, e.g. LARGE_DATA_TRANSPORTS) has no effect (see
    LOCALHOST_LARGE_DATA_MEDIAN_MS). fastdds_version: (major, minor) of the running Fast DDS;
    the figures are quoted only for the one they were measured with.
    """
    env = os.environ if environ is None else environ
    if current_transport(env) != 'large_data' or not _localhost(env):
        return None
    if fastdds_version and tuple(fastdds_version[:2]) == LOCALHOST_MEASURED_FASTDDS:
        cost = ('expect ~%.0f ms instead of ~%.0f ms per 1280x720 frame (%s)'
                % (LOCALHOST_LARGE_DATA_MEDIAN_MS,
                   transport_medians(fastdds_version)[('large_data', 'large_data')],
                   _fastdds_name(fastdds_version)))
    else:
        cost = 'big frames then travel as UDP fragments (%s measures it)' % BENCH_COMMAND
    return ('FASTDDS_BUILTIN_TRANSPORTS=%s is set, but ROS_AUTOMATIC_DISCOVERY_RANGE='
            'LOCALHOST / ROS_LOCALHOST_ONLY=1 makes Fast DDS use UDP on the loopback instead: '
            '%s. Keep traffic off the network with ROS_DOMAIN_ID or a firewall instead, or unset '
            'the localhost setting.' % (env['FASTDDS_BUILTIN_TRANSPORTS'], cost))


def speed_hint(environ: Optional[Mapping[str, str]] = None,
               fastdds_version=None) -> Optional[str]:
    """
    On the default transports: how much faster the shm profile moves big frames, else None.

    fastdds_version: (major, minor) of the running Fast DDS (compat.fastdds_version()); the
    medians measured with it are quoted, and none where none were measured (e.g. Humble's 2.6).
    """
    if current_transport(environ) != 'default':
        return None
    medians = transport_medians(fastdds_version)
    if medians is not None:
        speed = ('delivers a 1280x720 frame in ~%.0f ms instead of ~%.0f ms (%s)'
                 % (medians[('shm', 'default')], medians[('default', 'default')],
                    _fastdds_name(fastdds_version)))
    else:
        speed = ('delivers a 1280x720 frame through shared memory in one piece instead of as UDP '
                 'fragments (%s measures both here)' % BENCH_COMMAND)
    return ('big frames: a camera driver started with the Fast DDS profile %s '
            '(FASTDDS_DEFAULT_PROFILES_FILE, FASTRTPS_DEFAULT_PROFILES_FILE before Fast DDS 3) '
            '%s; the node talks to it either way (launch argument transport:=shm gives the node '
            'the profile too)' % (PROFILE_FILE, speed))


def no_frames_advice(topic: str, publishers: int, waited_s: float,
                     environ: Optional[Mapping[str, str]] = None,
                     matched: Optional[int] = None) -> str:
    """
    Return the warning when a camera topic delivered no frame `waited_s` after activation.

    publishers: publishers of the topic this node's graph knows (0: none discovered).
    matched: publishers matched to the node's subscription (None where rclpy does not report it).
    """
    env = os.environ if environ is None else environ
    mode = current_transport(env)
    domain = env.get('ROS_DOMAIN_ID') or '0 (unset)'
    peers = ('a camera driver with FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA reaches only nodes that '
             'use it too' if mode != 'large_data' else
             'this node uses LARGE_DATA, which reaches only publishers that use it too (start '
             'the node with transport:=default or the driver with LARGE_DATA)')
    transports = 'the transports: this node uses %s; %s' % (describe_transport(env), peers)
    head = '%s: no frame received %.0f s after activation' % (topic, waited_s)
    if publishers == 0 and not matched:
        return ('%s and no publisher found; check the topic name (camera_topics, remappings: '
                '`ros2 topic list`), that the driver runs with the same ROS_DOMAIN_ID (here %s), '
                'and %s' % (head, domain, transports))
    if matched == 0:
        return ('%s: %d publisher(s) found, none matched to this subscription; check the QoS (a '
                'best-effort driver needs qos:=sensor_data; the node logs an incompatible QoS) '
                'and %s' % (head, publishers, transports))
    return ('%s with %d publisher(s) %s; check that the driver publishes (`ros2 topic hz %s`), '
            'the QoS (a best-effort driver needs qos:=sensor_data) and %s'
            % (head, matched or publishers, 'matched' if matched else 'found', topic,
               transports))

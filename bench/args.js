// Command-line options of `npm run bench -- …` and size strings ("100MB", "2.7GB", "1GiB").

export const WORKLOAD_NAMES = ['filetao', 'rl', 'openvalidators'];

/** Default input size per workload when neither --size nor --quick is given. */
export const DEFAULT_SIZES = { filetao: '1GB', rl: '2.7GB', openvalidators: '1GB' };

const USAGE = `usage: npm run bench -- [options]
  --size <size>         one input size for every workload (e.g. 200MB, 2GB); default
                        filetao 1GB, rl 2.7GB, openvalidators 1GB
  --quick               100MB per workload (same as --size 100MB)
  --workloads <list>    comma list of ${WORKLOAD_NAMES.join(', ')} (default: all)
  --commands <list>     only these runlens commands (default: every one the CLI has)
  --flatness            also run inspect, plot, report and export (or those of --commands) on
                        FileTAO at two sizes and compare peak RSS
  --flatness-sizes <a,b>  the two sizes (default 1GB,10GB; 200MB,2GB with --quick; X,10X with --size X)
  --flatness-workloads <list>  the workloads --flatness runs on (default: filetao)
  --repeat <n>          run every measurement n times back to back and report the median
                        seconds and the median peak RSS, with their range (default 1)
  --appended <size>     also the second look: FileTAO of this size (e.g. 10GB), plot, report and
                        analyze each on a cold run index, then again after 1 % more events were
                        appended to the log
  --rl-large <size>     also visualize-training on an RL run of this size (e.g. 27GB), measured
  --fleet / --no-fleet  the fleet rows (bench/fleet.js): push of the FileTAO run to a 2-shard
                        ClickHouse cluster on loopback, the fleet leaderboard over 8 pushed runs,
                        against the local engine. Default: on when clickhouse-server is installed
                        and FileTAO is among the workloads; --fleet fails without it
  --no-save             print the table only, do not write bench/results/
  -h, --help            this text`;

const UNITS = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3 };

/** Bytes in a size string: decimal KB/MB/GB, binary KiB/MiB/GiB, like `runlens simulate --size`. */
export function parseSize(text) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(String(text));
  const unit = match ? (match[2] || 'B').toUpperCase() : '';
  if (!match || !(unit in UNITS)) throw new Error(`not a size: "${text}" (e.g. 200MB, 2.7GB)`);
  return Math.round(Number(match[1]) * UNITS[unit]);
}

/** A canonical label for a size, used in directory and result file names: "2.7GB", "100MB". */
export function sizeLabel(text) {
  const bytes = parseSize(text);
  for (const unit of ['TB', 'GB', 'MB', 'KB']) {
    const value = bytes / UNITS[unit];
    if (value >= 1) return `${Math.round(value * 100) / 100}${unit}`;
  }
  return `${bytes}B`;
}

function scaled(text, factor) {
  return sizeLabel(`${parseSize(text) * factor}B`);
}

export function parseArgs(argv) {
  const options = {
    sizes: { ...DEFAULT_SIZES },
    sizeName: 'default',
    workloads: [...WORKLOAD_NAMES],
    commands: undefined,
    flatness: false,
    flatnessSizes: ['1GB', '10GB'],
    flatnessWorkloads: ['filetao'],
    save: true,
    repeat: 1,
    appended: undefined,
    rlLarge: undefined,
    fleet: 'auto',
  };
  let flatnessGiven = false;
  const setSize = (size) => {
    const label = sizeLabel(size);
    for (const name of WORKLOAD_NAMES) options.sizes[name] = label;
    options.sizeName = label;
    if (!flatnessGiven) options.flatnessSizes = [label, scaled(label, 10)];
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value\n${USAGE}`);
      return argv[++i];
    };
    if (arg === '--size') setSize(value());
    else if (arg === '--quick') {
      setSize('100MB');
      if (!flatnessGiven) options.flatnessSizes = ['200MB', '2GB'];
    } else if (arg === '--workloads') {
      options.workloads = value().split(',').filter(Boolean);
      const unknown = options.workloads.filter((name) => !WORKLOAD_NAMES.includes(name));
      if (unknown.length > 0) throw new Error(`unknown workload ${unknown.join(', ')}\n${USAGE}`);
    } else if (arg === '--commands') options.commands = value().split(',').filter(Boolean);
    else if (arg === '--appended') options.appended = sizeLabel(value());
    else if (arg === '--rl-large') options.rlLarge = sizeLabel(value());
    else if (arg === '--flatness') options.flatness = true;
    else if (arg === '--fleet') options.fleet = true;
    else if (arg === '--no-fleet') options.fleet = false;
    else if (arg === '--flatness-sizes') {
      const sizes = value().split(',').map(sizeLabel);
      if (sizes.length !== 2) throw new Error(`--flatness-sizes takes two sizes, e.g. 1GB,10GB`);
      options.flatnessSizes = sizes;
      flatnessGiven = true;
    } else if (arg === '--flatness-workloads') {
      options.flatnessWorkloads = value().split(',').filter(Boolean);
      const unknown = options.flatnessWorkloads.filter((name) => !WORKLOAD_NAMES.includes(name));
      if (unknown.length > 0 || options.flatnessWorkloads.length === 0) {
        throw new Error(`--flatness-workloads takes a comma list of ${WORKLOAD_NAMES.join(', ')}\n${USAGE}`);
      }
    } else if (arg === '--repeat') {
      const text = value();
      options.repeat = Number(text);
      if (!Number.isInteger(options.repeat) || options.repeat < 1) {
        throw new Error(`--repeat takes a whole number of runs, 1 or more; got "${text}"`);
      }
    } else if (arg === '--no-save') options.save = false;
    else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return options;
}

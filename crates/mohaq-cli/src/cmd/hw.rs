//! `mohaq hw`: cost a workload on a platform, or simulate one fully connected layer on Bit Fusion.

use anyhow::{bail, Context};
use mohaq_hw::bitfusion::{BitFusionConfig, BitFusionSim, FcLayer, ReferenceRow};
use mohaq_hw::{bits_from_tokens, Cost, Platform, Workload};
use std::path::{Path, PathBuf};

/// Arguments of `mohaq hw`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: HwCommand,
}

#[derive(clap::Subcommand)]
enum HwCommand {
    /// Cost a workload at given bit widths on a platform: per-layer and total table.
    Eval(EvalArgs),
    /// Simulate one fully connected layer on a Bit Fusion configuration (cycle-level model).
    BitfusionFc(BitfusionFcArgs),
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Platform TOML file (e.g. platforms/silago.toml).
    #[arg(long)]
    platform: PathBuf,
    /// Workload: `paper` (the paper's SRU) or a model config file (SRU, LSTM or GRU TOML): its
    /// matrix layers with their shapes.
    #[arg(long, default_value = "paper")]
    workload: String,
    /// Bit widths, comma separated: one per layer (`8` = weights and activations at 8, or
    /// `4/8` = weights 4, activations 8), or the paper's 16 genes (METHOD.md §5.1).
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    bits: Vec<String>,
    /// Also report latency and energy of an utterance of this many frames (simulation only).
    #[arg(long)]
    frames: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
struct BitfusionFcArgs {
    /// Configuration: `bf_e`, `conf`, or a configuration TOML file.
    #[arg(long, default_value = "bf_e")]
    config: String,
    /// Input size (reduction dimension).
    #[arg(long)]
    ni: u64,
    /// Output size.
    #[arg(long)]
    no: u64,
    /// Batch (frames processed together).
    #[arg(long, default_value_t = 1)]
    batch: u64,
    /// Activation bits.
    #[arg(long)]
    abits: u32,
    /// Weight bits.
    #[arg(long)]
    wbits: u32,
    /// Print one JSON object with the reference CSV's columns as keys.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        HwCommand::Eval(a) => eval(a),
        HwCommand::BitfusionFc(a) => bitfusion_fc(a),
    }
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let platform = Platform::from_toml_file(&args.platform)?;
    let workload = match args.workload.as_str() {
        "paper" => Workload::paper_sru(),
        other if Path::new(other).is_file() => {
            mohaq_app::hardware::model_workload(Path::new(other))?
        }
        other => bail!("unknown workload `{other}` (known: paper, or a model config file)"),
    };
    let bits = bits_from_tokens(&workload, &args.bits).context("--bits")?;
    let cost = platform.evaluate(&workload, &bits)?;
    let utterance = match (args.frames, &cost.simulation) {
        (Some(frames), Some(sim)) => Some((frames, sim.per_utterance(frames))),
        (Some(_), None) => bail!("--frames needs a platform with the Bit Fusion simulation"),
        _ => None,
    };
    if args.json {
        let mut value = serde_json::to_value(&cost)?;
        if let (Some((frames, (us, uj))), Some(map)) = (utterance, value.as_object_mut()) {
            map.insert(
                "utterance".into(),
                serde_json::json!({"frames": frames, "microseconds": us, "energy_uj": uj}),
            );
        }
        outln!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_table(&platform, &cost)?;
        if let Some((frames, (us, uj))) = utterance {
            outln!("utterance of {frames} frames: {us:.1} µs, {uj:.3} µJ");
        }
    }
    Ok(())
}

fn print_table(platform: &Platform, cost: &Cost) -> anyhow::Result<()> {
    outln!("platform: {}", platform.name());
    let sim = cost.simulation.is_some();
    out!(
        "{:<6} {:>6} {:>6} {:>10} {:>10} {:>9} {:>11}",
        "layer",
        "w bits",
        "a bits",
        "weights",
        "MACs",
        "speedup",
        "energy µJ"
    );
    outln!(
        "{}",
        if sim {
            format!(" {:>12}", "cycles/frame")
        } else {
            String::new()
        }
    );
    for l in &cost.layers {
        let energy = l.energy_uj.map_or("-".to_string(), |e| format!("{e:.4}"));
        out!(
            "{:<6} {:>6} {:>6} {:>10} {:>10} {:>9.4} {:>11}",
            l.name,
            l.weight_bits,
            l.activation_bits,
            l.weights,
            l.macs,
            l.speedup,
            energy
        );
        match l.cycles_per_frame {
            Some(c) => outln!(" {c:>12.1}"),
            None => outln!(),
        }
    }
    outln!(
        "speedup: {:.4} ({:?} mode; paper {:.4}, physical {:.4})",
        cost.speedup,
        cost.speedup_mode,
        cost.speedup_paper,
        cost.speedup_physical
    );
    if let Some(us) = cost.latency_us_per_frame {
        outln!("latency: {us:.4} µs/frame (measured table)");
    }
    match cost.energy_uj_per_frame {
        Some(e) => outln!("energy: {e:.4} µJ/frame"),
        None => outln!("energy: not modelled"),
    }
    outln!(
        "size: {:.4} MB (limit {} MB: {})",
        cost.size_mb,
        cost.memory_limit_mb,
        if cost.fits_memory { "fits" } else { "exceeds" }
    );
    if let Some(s) = &cost.simulation {
        outln!(
            "simulation: batch {}, {} cycles/batch ({} at 16 bits), {:.3} µs/frame",
            s.batch,
            s.cycles_per_batch,
            s.baseline_cycles_per_batch,
            s.microseconds_per_frame
        );
    }
    Ok(())
}

fn bitfusion_fc(args: BitfusionFcArgs) -> anyhow::Result<()> {
    let config = match BitFusionConfig::preset(&args.config) {
        Some(preset) => preset,
        None if Path::new(&args.config).is_file() => BitFusionConfig::from_toml_file(&args.config)?,
        None => bail!(
            "--config `{}` is neither a preset (bf_e, conf) nor a file",
            args.config
        ),
    };
    let layer = FcLayer::new(args.ni, args.no, args.batch, args.abits, args.wbits)?;
    let name = config.name.clone();
    let report = BitFusionSim::new(config).simulate(layer)?;
    let row = ReferenceRow::new(&name, &report);
    if args.json {
        outln!("{}", serde_json::to_string(&row)?);
    } else {
        outln!(
            "{name}: {}x{} batch {} a{} w{}",
            row.ni,
            row.no,
            row.b,
            row.abits,
            row.wbits
        );
        outln!(
            "cycles {} (stall {}), energy {:.6} nJ (core {:.6}, sram {:.6}, dram {:.6})",
            row.cycles,
            row.stall,
            row.energy_nj,
            row.core_nj,
            row.sram_nj,
            row.dram_nj
        );
        outln!(
            "traffic bits: wbuf rd {} wr {}, ibuf rd {} wr {}, obuf rd {} wr {}, dram rd {} wr {}",
            row.wbuf_rd,
            row.wbuf_wr,
            row.ibuf_rd,
            row.ibuf_wr,
            row.obuf_rd,
            row.obuf_wr,
            row.dram_rd,
            row.dram_wr
        );
        outln!(
            "schedule: {} tiles b {} ic {} oc {}",
            row.order,
            row.tile_b,
            row.tile_ic,
            row.tile_oc
        );
    }
    Ok(())
}

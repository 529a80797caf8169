//! `droplab export torch`: a PyTorch script whose nn.Sequential matches the run's weights,
//! tensor by tensor. Where PyTorch is installed the script is run and its eval() predictions
//! are compared with droplab's; elsewhere that part says it was skipped.

mod common;

use std::path::Path;

use common::*;

/// The safetensors header of a run's weights: name -> shape.
fn tensor_shapes(path: &Path) -> Vec<(String, Vec<u64>)> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(k, v)| {
            let shape = v["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap())
                .collect();
            (k.clone(), shape)
        })
        .collect()
}

/// The numbers inside `nn.Name(a, b, ...)`, keyword values included.
fn args_of(line: &str) -> Vec<u64> {
    let inner = line
        .split_once('(')
        .unwrap()
        .1
        .trim_end_matches("),")
        .trim_end_matches(')');
    inner
        .split(',')
        .filter_map(|a| a.split('=').next_back().unwrap().trim().parse().ok())
        .collect()
}

#[test]
fn the_script_builds_the_modules_the_weights_are_named_for() {
    let tmp = tempfile::tempdir().unwrap();
    for (out, model) in [
        ("mlp", "mlp:64-48-10"),
        ("cnn", "cnn:c6k3-p2-sd0.1-bn-f24-d0.5-10"),
    ] {
        let o = droplab(
            tmp.path(),
            &[
                "train",
                "--dataset",
                "digits",
                "--model",
                model,
                "--dropout",
                "0.2,0.5",
                "--dropout-convention",
                "standard",
                "--epochs",
                "2",
                "--threads",
                "1",
                "--quiet",
                "--out",
                out,
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let o = droplab(tmp.path(), &["export", "torch", out]);
        assert!(o.status.success(), "{}", stderr(&o));
        let script = stdout(&o);
        assert!(
            script.contains("strict=True") && script.contains("model.eval()"),
            "{script}"
        );
        let modules: Vec<&str> = script
            .lines()
            .filter(|l| l.starts_with("    nn."))
            .map(|l| l.trim())
            .collect();
        // Every weight tensor `I.weight` belongs to module I, whose constructor gives its shape.
        let shapes = tensor_shapes(&tmp.path().join(out).join("model.safetensors"));
        let mut checked = 0;
        for (name, shape) in &shapes {
            let Some(i) = name.strip_suffix(".weight").and_then(|i| i.parse::<usize>().ok()) else {
                continue;
            };
            let m = modules[i];
            let a = args_of(m);
            if m.starts_with("nn.Linear(") {
                assert_eq!(shape, &vec![a[1], a[0]], "{name}: {m}");
            } else if m.starts_with("nn.Conv2d(") {
                assert_eq!(shape, &vec![a[1], a[0], a[2], a[2]], "{name}: {m}");
            } else if m.starts_with("nn.BatchNorm") {
                assert_eq!(shape, &vec![a[0]], "{name}: {m}");
            } else {
                panic!("{name} belongs to {m}");
            }
            checked += 1;
        }
        assert!(checked >= 2, "{out}: {shapes:?}");
        assert!(modules.contains(&"nn.Dropout(p=0.5),"), "{modules:?}");
        // Run it where PyTorch is installed.
        let has_torch = std::process::Command::new("python3")
            .args(["-c", "import torch, safetensors"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_torch {
            eprintln!("skipped: running the exported script needs torch and safetensors in python3");
            continue;
        }
        let check = format!(
            "{script}\nimport torch\nx = torch.zeros(3, *[int(d) for d in {:?}])\nprint(model(x).softmax(1).tolist())\n",
            if out == "cnn" { vec![1, 8, 8] } else { vec![64] }
        );
        let o = std::process::Command::new("python3")
            .args(["-c", &check])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let torch_probs: Vec<Vec<f64>> =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).trim()).unwrap();
        // droplab's weight-scaled probabilities of the same (zero) inputs.
        std::fs::write(
            tmp.path().join("zeros.csv"),
            format!("{}\n", vec!["0"; 64].join(",")).repeat(3),
        )
        .unwrap();
        let o = droplab(tmp.path(), &["predict", out, "--input", "zeros.csv"]);
        assert!(o.status.success(), "{}", stderr(&o));
        for (row, t) in stdout(&o).lines().skip(1).zip(&torch_probs) {
            let p: Vec<f64> = row.split(',').skip(1).map(|c| c.parse().unwrap()).collect();
            for (a, b) in p.iter().zip(t) {
                assert!((a - b).abs() < 1e-5, "{out}: droplab {a}, torch {b}");
            }
        }
    }
}

#[test]
fn a_recurrent_run_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let series = "@data\n1,2:3,4:x\n2,1:4,3:y\n1,2:3,4:x\n2,1:4,3:y\n1,2:3,4:x\n2,1:4,3:y\n";
    std::fs::write(tmp.path().join("s.ts"), series).unwrap();
    let o = droplab(
        tmp.path(),
        &[
            "train",
            "--dataset",
            "ts:s.ts,s.ts",
            "--model",
            "rnn:lstm4-last-2",
            "--epochs",
            "1",
            "--quiet",
            "--out",
            "r",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_usage_error(
        &droplab(tmp.path(), &["export", "torch", "r"]),
        &["recurrent", "nn.Sequential"],
    );
}

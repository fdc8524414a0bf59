//! Hypervolume, IGD, crowding and archives on hand-computed cases.

use mohaq_evo::crowding::{crowding_distances, BOUNDARY_CROWDING};
use mohaq_evo::test_problems::{TestFunction, TestProblem};
use mohaq_evo::{hypervolume, igd, IndicatorError, ParetoArchive};

#[test]
fn hypervolume_2d_by_hand() {
    // Staircase (1,3), (2,2), (3,1) against (4,4).
    let points = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]];
    let hv = hypervolume(&points, &[4.0, 4.0]).unwrap();
    // Columns x in [1,2): height 1; [2,3): 2; [3,4): 3.
    assert_eq!(hv, 6.0);
    // A dominated point and a point beyond the reference add nothing.
    let mut more = points.clone();
    more.push(vec![2.5, 2.5]);
    more.push(vec![0.5, 4.0]);
    assert_eq!(hypervolume(&more, &[4.0, 4.0]).unwrap(), 6.0);
}

#[test]
fn hypervolume_3d_and_4d_by_hand() {
    let unit = vec![vec![0.0, 0.0, 0.0]];
    assert_eq!(hypervolume(&unit, &[1.0, 2.0, 3.0]).unwrap(), 6.0);
    // Boxes [1,2]x[0,2]x[0,2] (4) and [0,2]x[1,2]x[0,2] (4) overlap in [1,2]x[1,2]x[0,2] (2).
    let two = vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]];
    assert_eq!(hypervolume(&two, &[2.0, 2.0, 2.0]).unwrap(), 6.0);
    let four = vec![vec![1.0, 0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0, 0.0]];
    assert_eq!(hypervolume(&four, &[2.0, 2.0, 2.0, 2.0]).unwrap(), 12.0);
}

#[test]
fn hypervolume_of_true_zdt1_front_approaches_the_integral() {
    // Region dominated by f2 = 1 - sqrt(f1) inside [0, 1.1]^2: 0.1 + 2/3 + 0.11.
    let exact = 0.1 + 2.0 / 3.0 + 0.11;
    let front = TestProblem::zdt(TestFunction::Zdt1, 30).true_front(20_001);
    let hv = hypervolume(&front, &[1.1, 1.1]).unwrap();
    assert!((hv - exact).abs() < 1e-4, "hv {hv} exact {exact}");
}

#[test]
fn hypervolume_rejects_bad_input() {
    assert_eq!(
        hypervolume(&[vec![0.0, 1.0, 2.0]], &[1.0, 1.0]),
        Err(IndicatorError::Dimension {
            index: 0,
            expected: 2,
            got: 3
        })
    );
    assert!(matches!(
        hypervolume(&[vec![f64::NAN, 0.0]], &[1.0, 1.0]),
        Err(IndicatorError::NonFinite { index: 0, .. })
    ));
}

#[test]
fn igd_by_hand() {
    let reference = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
    assert_eq!(igd(&reference, &reference).unwrap(), 0.0);
    let approximation = vec![vec![0.0, 2.0]];
    // Distances: 1 to (0,1), sqrt(5) to (1,0).
    let expected = (1.0 + 5f64.sqrt()) / 2.0;
    assert!((igd(&approximation, &reference).unwrap() - expected).abs() < 1e-12);
    assert_eq!(igd(&[], &reference), Err(IndicatorError::EmptySet));
}

#[test]
fn crowding_follows_pymoo_conventions() {
    let points = [[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0], [1.0, 2.0]];
    let views: Vec<&[f64]> = points.iter().map(|p| p.as_slice()).collect();
    let d = crowding_distances(&views);
    assert_eq!(d[0], BOUNDARY_CROWDING);
    assert_eq!(d[3], BOUNDARY_CROWDING);
    // (1,2): neighbours (0,4) and (2,1): ((2-0)/4 + (4-1)/4) / 2.
    assert!((d[1] - 0.625).abs() < 1e-12);
    // (2,1): neighbours (1,2) and (4,0): ((4-1)/4 + (2-0)/4) / 2.
    assert!((d[2] - 0.625).abs() < 1e-12);
    // The duplicate of (1,2) gets 0.
    assert_eq!(d[4], 0.0);
}

#[test]
fn pareto_archive_keeps_only_non_dominated() {
    let mut archive = ParetoArchive::new();
    assert!(archive.insert(vec![2.0, 2.0], 'a'));
    assert!(archive.insert(vec![1.0, 3.0], 'b'));
    assert!(!archive.insert(vec![2.5, 2.5], 'c'));
    assert!(archive.insert(vec![1.0, 1.0], 'd'));
    let payloads: Vec<char> = archive.members().iter().map(|(_, c)| *c).collect();
    assert_eq!(payloads, vec!['d']);
    assert!(archive.insert(vec![1.0, 1.0], 'e'));
    assert_eq!(archive.len(), 2);
}

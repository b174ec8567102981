//! `inspect` of a component: its WIT world (decoded from the binary's type information,
//! printed as WIT), its imports and exports with their types, its `wasmplug.*` metadata,
//! and whether it is a valid `wasmplug:plugin` component (compiled to check its world and
//! its imports against what the host links; no guest code runs).

use wasmplug::{Limits, Plugin};

use super::{CustomSection, ErrorReport, Report};

/// Fills `report` for the component `binary`.
pub(super) fn fill(report: &mut Report, binary: &[u8], limits: &Limits) {
    report.kind = "component";
    report.world = world_text(binary);
    let compiled = Plugin::builder()
        .limits(limits.clone())
        .compile_bytes(binary);
    match compiled {
        Ok(compiled) => {
            report.valid = true;
            let interface = compiled.interface();
            report.abi_version = Some(interface.abi_version);
            report.meta = Some(interface.meta.clone());
            report.functions = interface.functions.clone();
            let info = compiled.module_info();
            report.custom_sections = info
                .custom_sections
                .iter()
                .map(|(name, size)| CustomSection {
                    name: name.clone(),
                    size: *size,
                })
                .collect();
            if let Some(world) = compiled.component() {
                report.component_imports = world
                    .imports
                    .iter()
                    .map(|i| (i.name.clone(), i.ty.clone()))
                    .collect();
                report.component_exports = world
                    .exports
                    .iter()
                    .map(|e| (e.name.clone(), e.ty.clone()))
                    .collect();
                report.typed_exports = world.typed_exports.clone();
            }
        }
        Err(e) => {
            report.error = Some(ErrorReport {
                class: e.class(),
                message: e.to_string(),
            });
        }
    }
}

/// The component's world as WIT text, if its type information decodes.
fn world_text(binary: &[u8]) -> Option<String> {
    let decoded = wit_component::decode(binary).ok()?;
    let resolve = decoded.resolve();
    let package = decoded.package();
    let mut printer = wit_component::WitPrinter::default();
    printer.print(resolve, package, &[]).ok()?;
    Some(printer.output.to_string())
}

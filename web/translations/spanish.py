"""The Spanish catalogue, written as data: `python web/translations/spanish.py` merges it into
es/LC_MESSAGES/messages.po against messages.pot (run `python -m web.i18n extract` first).
Terms follow the glossary of the domain research (Bandeja de entrada, Oficina en el País...)."""

ES = {
    "Nothing was saved. Tell a Process Manager.": "No se guardó nada. Avise a un Gestor de Procesos.",
    "Nothing was saved: %(why)s": "No se guardó nada: %(why)s",
    "Something went wrong": "Algo salió mal",
    "The process could not go on": "El proceso no pudo continuar",
    "The request was not carried out; nothing was saved. Try again.": (
        "La solicitud no se llevó a cabo; no se guardó nada. Inténtelo de nuevo."
    ),
    "The step “%(step)s” failed: %(why)s.": "El paso «%(step)s» falló: %(why)s.",
    "the process": "el proceso",
    "Please sign in to see this page.": "Inicie sesión para ver esta página.",
    "Email": "Correo electrónico",
    "Password": "Contraseña",
    "The email or the password is not right.": "El correo o la contraseña no son correctos.",
    "You are signed out.": "Sesión cerrada.",
    "The task is yours now.": "La tarea ahora es suya.",
    "You released the task: anyone with its role can take it.": "Liberó la tarea: cualquiera con su rol puede tomarla.",
    "Choose the person to give the task to.": "Elija a quién dar la tarea.",
    "The task now belongs to %(name)s.": "La tarea ahora es de %(name)s.",
    "Choose the office this is for.": "Elija la oficina a la que corresponde.",
    "Started: %(title)s.": "Iniciado: %(title)s.",
    "Draft saved. It is yours until you complete or release the task.": (
        "Borrador guardado. La tarea es suya hasta que la complete o la libere."
    ),
    "Nothing was saved: %(why)s.": "No se guardó nada: %(why)s.",
    "“%(title)s” is done.": "«%(title)s» está hecho.",
    "no deadline": "sin plazo",
    "overdue by %(time)s": "vencida hace %(time)s",
    "%(time)s left": "quedan %(time)s",
    "Not found": "No encontrado",
    "There is nothing here for you: it does not exist or belongs to another office.": (
        "No hay nada aquí para usted: no existe o pertenece a otra oficina."
    ),
    "There is nothing at this address.": "No hay nada en esta dirección.",
    "Not allowed": "No permitido",
    "Your roles do not allow this: %(why)s": "Sus roles no lo permiten: %(why)s",
    "Already done": "Ya hecho",
    "Somebody acted first: %(why)s": "Alguien actuó antes: %(why)s",
    "Not valid": "No válido",
    "Diagram": "Diagrama",
    "The diagram needs JavaScript; the timeline says the same in words.": (
        "El diagrama necesita JavaScript; el historial dice lo mismo con palabras."
    ),
    "done": "hecho",
    "current step": "paso actual",
    "waiting (timer, message, called process)": "en espera (temporizador, mensaje, proceso llamado)",
    "Main": "Principal",
    "Inbox": "Bandeja de entrada",
    "Start": "Iniciar",
    "Sign out": "Cerrar sesión",
    "Back to the inbox": "Volver a la bandeja de entrada",
    "All my work": "Todo mi trabajo",
    "Assigned to me": "Asignadas a mí",
    "To claim": "Por tomar",
    "Started by me": "Iniciadas por mí",
    "Inbox views": "Vistas de la bandeja",
    "Filters": "Filtros",
    "Process": "Proceso",
    "All": "Todos",
    "Office": "Oficina",
    "Overdue only": "Solo vencidas",
    "Filter": "Filtrar",
    "Due": "Plazo",
    "Step": "Paso",
    "Case": "Caso",
    "Waiting": "En espera",
    "Action": "Acción",
    "Yours": "Suya",
    "Claim": "Tomar",
    "Nothing waits for you here.": "Nada le espera aquí.",
    "Started": "Iniciado",
    "Status": "Estado",
    "Completed": "Completado",
    "Running": "En curso",
    "SLA breached": "SLA incumplido",
    "You have not started anything yet.": "Aún no ha iniciado nada.",
    "Start a process": "Iniciar un proceso",
    "version %(n)s": "versión %(n)s",
    "completed %(when)s": "completado el %(when)s",
    "running since %(when)s": "en curso desde el %(when)s",
    "Now": "Ahora",
    "Finished.": "Terminado.",
    "Nobody has to act now: the process waits for a timer, a message or another process.": (
        "Nadie tiene que actuar ahora: el proceso espera un temporizador, un mensaje u otro proceso."
    ),
    "Timeline": "Historial",
    "started": "iniciado",
    "completed": "completado",
    "claimed": "tomada",
    "released": "liberada",
    "reassigned": "reasignada",
    "timer fired": "temporizador vencido",
    "message sent": "mensaje enviado",
    "message received": "mensaje recibido",
    "process finished": "proceso terminado",
    "Answers": "Respuestas",
    "Sign in": "Iniciar sesión",
    "Emergency response workflows of the Department of Operations and Emergencies.": (
        "Flujos de respuesta a emergencias del Departamento de Operaciones y Emergencias."
    ),
    "For %(office)s": "Para %(office)s",
    "Choose…": "Elija…",
    "For": "Para",
    "Your roles start no process.": "Sus roles no inician ningún proceso.",
    "due %(when)s": "vence el %(when)s",
    "held by %(name)s": "en manos de %(name)s",
    "This task is closed.": "Esta tarea está cerrada.",
    "%(name)s holds this task.": "%(name)s tiene esta tarea.",
    "Claim this task": "Tomar esta tarea",
    "so that others with your role see it is taken; completing it also makes it yours.": (
        "para que otros con su rol vean que está tomada; completarla también la hace suya."
    ),
    "Complete": "Completar",
    "Done": "Hecho",
    "Save draft": "Guardar borrador",
    "Release it for someone else with this role": "Liberarla para otra persona con este rol",
    "Give this task to": "Dar esta tarea a",
    "Reassign": "Reasignar",
    "Earlier answers": "Respuestas anteriores",
    "This is the first step.": "Este es el primer paso.",
    "Choose a .bpmn file to upload.": "Elija un archivo .bpmn para subir.",
    "Form saved.": "Formulario guardado.",
    "Not published: %(why)s": "No se publicó: %(why)s",
    "Published as version %(n)s.": "Publicado como versión %(n)s.",
    "Fix the errors first: %(n)s": "Corrija primero los errores: %(n)s",
    "the starter": "quien lo inició",
    "escalation": "escalamiento",
    "reminder": "recordatorio",
    "Too many attempts. Wait a minute, then try again.": "Demasiados intentos. Espere un minuto y vuelva a intentarlo.",
    "Too many attempts": "Demasiados intentos",
    "What was sent is larger than this site accepts.": "Lo enviado es más grande de lo que este sitio acepta.",
    "Too large": "Demasiado grande",
    "Try again in a moment": "Vuelva a intentarlo en un momento",
    "The database did not answer; nothing was saved.": "La base de datos no respondió; no se guardó nada.",
    "Modeler": "Modelador",
    "Decision table": "Tabla de decisión",
    "Save and check": "Guardar y verificar",
    "Thresholds are placeholders until the client confirms them: keep them here, never in the diagram.": "Los umbrales son provisionales hasta que el cliente los confirme: manténgalos aquí, nunca en el diagrama.",
    "Changes": "Cambios",
    "Versions of %(p)s": "Versiones de %(p)s",
    "Changes from version %(a)s to version %(b)s": "Cambios de la versión %(a)s a la versión %(b)s",
    "No change.": "Sin cambios.",
    "draft from version %(n)s": "borrador de la versión %(n)s",
    "new draft": "borrador nuevo",
    "Publish as a new version": "Publicar como nueva versión",
    "Selected element": "Elemento seleccionado",
    "Click an element of the diagram.": "Haga clic en un elemento del diagrama.",
    "Problems": "Problemas",
    "None.": "Ninguno.",
    "Decision tables": "Tablas de decisión",
    "Forms": "Formularios",
    "Dry run": "Prueba en seco",
    "Runs this draft in memory (nothing is saved): every task completed with sample answers; the wait moves the clock before the open tasks are completed.": "Ejecuta este borrador en memoria (no se guarda nada): cada tarea se completa con respuestas de ejemplo; la espera adelanta el reloj antes de completar las tareas abiertas.",
    'Steps, one per line: "complete", "complete until timer", "complete until ELEMENT_ID", "complete all", "wait PT36H"': 'Pasos, uno por línea: "complete", "complete until timer", "complete until ID_ELEMENTO", "complete all", "wait PT36H"',
    "Form": "Formulario",
    "JSON Schema": "JSON Schema",
    "Preview": "Vista previa",
    "Save": "Guardar",
    "Processes": "Procesos",
    "Version": "Versión",
    "Published": "Publicado",
    "Edit": "Editar",
    "Drafts": "Borradores",
    "%(n)s errors": "%(n)s errores",
    "New process": "Proceso nuevo",
    "Process id": "Id del proceso",
    "Name": "Nombre",
    "Create": "Crear",
    "Import a .bpmn file": "Importar un archivo .bpmn",
    "From Camunda Modeler or bpmn.io; at most 1 MB. Vendor extensions are kept.": "De Camunda Modeler o bpmn.io; 1 MB como máximo. Se conservan las extensiones del proveedor.",
    "Import": "Importar",
    "Versions": "Versiones",
    "By": "Por",
    "the shipped diagrams": "los diagramas incluidos",
    "changes from version %(n)s": "cambios desde la versión %(n)s",
    # --- the case summary, read-only pages, timeline (lead) ---
    "Started by %(who)s": "Iniciado por %(who)s",
    "“%(step)s” done by %(who)s": "«%(step)s» hecho por %(who)s",
    "%(who)s took “%(step)s”": "%(who)s tomó «%(step)s»",
    "%(who)s released “%(step)s” for others with its role": "%(who)s liberó «%(step)s» para otras personas con su rol",
    "%(who)s gave “%(step)s” to %(to)s": "%(who)s dio «%(step)s» a %(to)s",
    "Deadline passed: “%(timer)s” (SLA breached)": "Plazo vencido: «%(timer)s» (SLA incumplido)",
    "Deadline reached: “%(timer)s”": "Plazo alcanzado: «%(timer)s»",
    "%(who)s commented:": "%(who)s comentó:",
    "%(who)s attached “%(name)s”": "%(who)s adjuntó «%(name)s»",
    "%(who)s cancelled the case:": "%(who)s canceló el caso:",
    "Message sent: %(name)s": "Mensaje enviado: %(name)s",
    "Message received: %(name)s": "Mensaje recibido: %(name)s",
    "The process finished": "El proceso terminó",
    "nobody (no one holds the role)": "nadie (nadie tiene el rol)",
    "Escalated: %(roles)s told (%(people)s)": "Escalado: se avisó a %(roles)s (%(people)s)",
    "Escalated: %(people)s told": "Escalado: se avisó a %(people)s",
    "Reminder emailed to %(people)s": "Recordatorio enviado por correo a %(people)s",
    "%(some)s and %(last)s": "%(some)s y %(last)s",
    "The request": "La solicitud",
    "started %(when)s": "iniciada el %(when)s",
    "breached": "incumplido",
    "cancelled": "cancelado",
    "The request was started without a form.": "La solicitud se inició sin formulario.",
    "unclaimed: %(role)s, %(office)s": "sin tomar: %(role)s, %(office)s",
    "unclaimed": "sin tomar",
    "since %(when)s": "desde el %(when)s",
    "Cancelled: nothing more will happen on this case.": "Cancelado: no ocurrirá nada más en este caso.",
    "Returned for revision by %(who)s, %(when)s": "Devuelto para revisión por %(who)s, %(when)s",
    "What this step asks": "Lo que pide este paso",
    "%(name)s holds this task. You can read it but not act on it.": "%(name)s tiene esta tarea. Puede leerla, pero no actuar sobre ella.",
    "This task is for %(role)s in %(office)s. You can read it but not act on it.": "Esta tarea es para %(role)s en %(office)s. Puede leerla, pero no actuar sobre ella.",
    "the person who started the case": "la persona que inició el caso",
    "Your entries (not saved)": "Sus entradas (no guardadas)",
    "No answers yet.": "Todavía no hay respuestas.",
    "Diagram zoom": "Zoom del diagrama",
    "Whole diagram": "Diagrama completo",
    "Zoom in": "Acercar",
    "Zoom out": "Alejar",
    "Current step": "Paso actual",
    # (end of the case summary, read-only pages, timeline)
    # --- attachments (helper: attachments) ---
    "The file is larger than %(limit)s: nothing was saved.": "El archivo supera %(limit)s: no se guardó nada.",
    "Choose a file to attach.": "Elija un archivo para adjuntar.",
    "“%(name)s” is attached to the case.": "«%(name)s» quedó adjunto al caso.",
    "The files you chose were not saved with the refused form: choose them again.": (
        "Los archivos elegidos no se guardaron con el formulario rechazado: elíjalos de nuevo."
    ),
    "The files you chose were not kept when the line was added: choose them again.": (
        "Los archivos elegidos no se conservaron al añadir la línea: elíjalos de nuevo."
    ),
    "Documents": "Documentos",
    "No documents yet.": "Todavía no hay documentos.",
    "Attach a document (at most %(limit)s)": "Adjuntar un documento (%(limit)s como máximo)",
    "Attach": "Adjuntar",
    # (end of attachments)
    # --- comments and cancel (helper: comments-cancel) ---
    "Comment": "Comentario",
    "A comment for the timeline; the people who hold the open tasks are emailed.": (
        "Un comentario para el historial; quienes tienen las tareas abiertas lo reciben por correo."
    ),
    "Add the comment": "Añadir el comentario",
    "Write a comment first.": "Escriba primero un comentario.",
    "Your comment is on the case's timeline.": "Su comentario está en el historial del caso.",
    "Cancel this case": "Cancelar este caso",
    "Why is it cancelled? Whoever holds its tasks, started it or is its Chief of Mission is told.": (
        "¿Por qué se cancela? Se avisa a quienes tienen sus tareas, a quien lo inició y a su Jefe de Misión."
    ),
    "I confirm: every open task closes and the case cannot be reopened.": (
        "Confirmo: todas las tareas abiertas se cierran y el caso no podrá reabrirse."
    ),
    "Say why the case is cancelled.": "Indique por qué se cancela el caso.",
    "Tick the box to confirm the cancellation.": "Marque la casilla para confirmar la cancelación.",
    "Tick the box.": "Marque la casilla.",
    "Cancelled": "Cancelado",
    "The case is cancelled: its open tasks are closed and the people concerned are told.": (
        "El caso está cancelado: sus tareas abiertas se cerraron y se avisó a las personas interesadas."
    ),
    # (end of comments and cancel)
    # --- outcome emails (helper: outcome-emails) ---
    # (end of outcome emails)
    # --- field work (helper: field-work) ---
    "Your session's form token expired; check your entries and submit again.": (
        "El token de formulario de su sesión caducó; revise lo que escribió y envíelo de nuevo."
    ),
    "Submit again": "Envíe de nuevo",
    "Your draft of %(when)s is filled in; it stays until you start the case.": (
        "Su borrador del %(when)s está cargado; se conserva hasta que inicie el caso."
    ),
    "Draft saved. Open this form again to go on; starting the case deletes the draft.": (
        "Borrador guardado. Abra este formulario de nuevo para seguir; al iniciar el caso, el borrador se borra."
    ),
    # (end of field work)
    # --- cross-field rules (helper: form-rules) ---
    # (end of cross-field rules)
    # --- issue 15: step and time budgets ---
    "The process ran past what one step may do, at “%(step)s”: a loop that never ends?": (
        "El proceso superó lo que puede hacer un solo paso, en “%(step)s”: ¿un bucle que nunca termina?"
    ),
    # --- issue 15 items 5, 7, 9: form data and addresses ---
    "The form was sent with %(n)s fields, more than it has: nothing was saved.": (
        "El formulario se envió con %(n)s campos, más de los que tiene: no se guardó nada."
    ),
    "The address holds a NUL character, which names nothing here.": (
        "La dirección contiene un carácter NUL, que no designa nada aquí."
    ),
    "The form holds a NUL character, which no field may hold: nothing was saved.": (
        "El formulario contiene un carácter NUL, que ningún campo admite: no se guardó nada."
    ),
    # (end of issue 15 items 5, 7, 9)
    # --- issue 14 part B: the case list, its exports, the inbox's search ---
    "Cases": "Casos",
    "Search": "Buscar",
    "Title, reference, a word of the case": "Título, referencia, una palabra del caso",
    "Emergency": "Emergencia",
    "SLA": "SLA",
    "Current holder": "A cargo ahora",
    "Anyone": "Cualquiera",
    "Me": "Yo",
    "Started from": "Iniciado desde",
    "Started until": "Iniciado hasta",
    "Done by me": "Con tareas hechas por mí",
    "Sort": "Ordenar",
    "Newest started": "Iniciados más recientes",
    "Last changed": "Cambiados más recientes",
    "Soonest due": "Plazo más próximo",
    "1 case": "1 caso",
    "%(num)d cases": "%(num)d casos",
    "page %(page)d of %(pages)d": "página %(page)d de %(pages)d",
    "Export CSV": "Exportar CSV",
    "Export XLSX": "Exportar XLSX",
    "An export holds the first %(cap)d cases of the list.": "Una exportación contiene los primeros %(cap)d casos de la lista.",
    "Reference": "Referencia",
    "Title": "Título",
    "Last change": "Último cambio",
    "+%(n)d more": "+%(n)d más",
    "Pages": "Páginas",
    "Previous": "Anterior",
    "Next": "Siguiente",
    "No case matches.": "Ningún caso coincide.",
    "On time": "A tiempo",
    "Due soon": "Vence pronto",
    "Breached": "Incumplido",
    "Next due (UTC)": "Próximo plazo (UTC)",
    "Started (UTC)": "Iniciado (UTC)",
    "Last change (UTC)": "Último cambio (UTC)",
    "Link": "Enlace",
    # (end of issue 14 part B)
    # --- issue 14 part C: the SLA and operations report ---
    "%(decided)d cases decided, %(within)d within the SLA, %(breached)d breached.": (
        "%(decided)d casos decididos, %(within)d dentro del SLA, %(breached)d con incumplimiento."
    ),
    "%(decided)d decided, %(within)d within the SLA, %(breached)d breached": (
        "%(decided)d decididos, %(within)d dentro del SLA, %(breached)d con incumplimiento"
    ),
    "%(num)d MEFM advances outstanding": "%(num)d anticipos MEFM pendientes",
    "%(num)d breaches open now": "%(num)d incumplimientos abiertos ahora",
    "90th percentile hours": "Horas del percentil 90",
    "Age (days)": "Antigüedad (días)",
    "Amount (USD)": "Monto (USD)",
    "Applications": "Solicitudes",
    "Breaches open now": "Incumplimientos abiertos ahora",
    "CERF pipeline: open applications by step": "Solicitudes CERF en curso, por paso",
    "Decided": "Decididos",
    "Decided from": "Decididos desde",
    "Decided until": "Decididos hasta",
    "Decisions within the SLA and breached, by month": "Decisiones dentro del SLA y con incumplimiento, por mes",
    "Escalated": "Escalado",
    "Expected repayment": "Reembolso previsto",
    "Hours to decision: median and 90th percentile": "Horas hasta la decisión: mediana y percentil 90",
    "MEFM advances outstanding": "Anticipos MEFM pendientes",
    "Median and 90th percentile of the hours from the start of a case to its decision.": (
        "Mediana y percentil 90 de las horas desde el inicio de un caso hasta su decisión."
    ),
    "Median hours": "Horas (mediana)",
    "Median hours open": "Horas abierto (mediana)",
    "Month": "Mes",
    "No CERF application is running.": "No hay ninguna solicitud CERF en curso.",
    "No advance is outstanding.": "No hay ningún anticipo pendiente.",
    "No breach is open.": "No hay ningún incumplimiento abierto.",
    "No case was decided in this period.": "No se decidió ningún caso en este período.",
    "No data for this period": "Sin datos para este período",
    "No step was done in this period.": "No se completó ningún paso en este período.",
    "Open applications": "Solicitudes en curso",
    "Overdue since": "Vencido desde",
    "Per process, office and month of decision": "Por proceso, oficina y mes de la decisión",
    "Reports": "Informes",
    "SLA and operations report": "Informe de SLA y operaciones",
    "Show": "Mostrar",
    "The CERF applications running now, counted at the step each waits at.": (
        "Las solicitudes CERF en curso, contadas en el paso en que espera cada una."
    ),
    "The steps done in the period, the slowest first, by the median hours each stayed open.": (
        "Los pasos completados en el período, los más lentos primero, según la mediana de horas que estuvieron abiertos."
    ),
    "Total": "Total",
    "Where the time goes: median hours open per step": "Dónde se va el tiempo: mediana de horas abierto por paso",
    "Within the SLA": "Dentro del SLA",
    "passed": "vencido",
    "Time per step": "Tiempo por paso",
    # (end of issue 14 part C)
    # --- issue 14 part A: emergencies and case references ---
    "Declared: %(reference)s %(name)s.": "Declarada: %(reference)s %(name)s.",
    "The emergency is changed; its timeline keeps the change.": (
        "La emergencia se modificó; su cronología conserva el cambio."
    ),
    "Type of crisis": "Tipo de crisis",
    "Level": "Nivel",
    "Onset date": "Fecha de inicio de la crisis",
    "Note": "Nota",
    "Active": "Activa",
    "Closed": "Cerrada",
    "Emergencies": "Emergencias",
    "No emergency is declared for the offices you work for.": (
        "No hay ninguna emergencia declarada para las oficinas en las que trabaja."
    ),
    "Declare an emergency": "Declarar una emergencia",
    "e.g. Hurricane Marisol": "p. ej. Huracán Marisol",
    "Declare": "Declarar",
    "onset %(day)s": "inicio %(day)s",
    "running": "en curso",
    "No case is started for this emergency yet.": "Todavía no se ha iniciado ningún caso para esta emergencia.",
    "These cases in the case list": "Estos casos en la lista de casos",
    "%(who)s declared it at %(level)s.": "%(who)s la declaró en %(level)s.",
    "%(who)s changed the level from %(old)s to %(new)s.": "%(who)s cambió el nivel de %(old)s a %(new)s.",
    "%(who)s closed it.": "%(who)s la cerró.",
    "%(who)s reopened it.": "%(who)s la reabrió.",
    "Change": "Modificar",
    "Change the level": "Cambiar el nivel",
    "Close the emergency": "Cerrar la emergencia",
    "Reopen the emergency": "Reabrir la emergencia",
    "its emergency": "su emergencia",
    "None: not for a declared emergency": "Ninguna: no es para una emergencia declarada",
    "Use this emergency": "Usar esta emergencia",
    "For %(emergency)s: the level (%(level)s), the type of crisis and the onset date come from the emergency.": (
        "Para %(emergency)s: el nivel (%(level)s), el tipo de crisis y la fecha de inicio vienen de la emergencia."
    ),
    "For the emergency chosen: its level, type of crisis and onset date come from it.": (
        "Para la emergencia elegida: su nivel, tipo de crisis y fecha de inicio vienen de ella."
    ),
    # (end of issue 14 part A)
}


def merge() -> list[str]:
    """Write es/LC_MESSAGES/messages.po from the template and ES; returns the untranslated ids."""
    from pathlib import Path

    from babel.messages import pofile

    here = Path(__file__).resolve().parent
    with (here / "messages.pot").open("rb") as source:
        catalog = pofile.read_po(source, locale="es")
    missing = []
    for message in catalog:
        if message.id:
            message.string = ES.get(message.id, "")
            if not message.string:
                missing.append(message.id)
    target = here / "es" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        pofile.write_po(out, catalog, omit_header=False, sort_output=True)
    return missing


if __name__ == "__main__":
    gaps = merge()
    if gaps:
        raise SystemExit("untranslated: " + "; ".join(gaps))
